"""An alert's evidence: what one article said, as stored and as subscribers see it.

Each piece keeps the article's main language (``language``, which the alert's
``languages`` count for its status) apart from the language of the sentence that
decided (``evidence_language``): a bilingual article's English sentence is English.
Beside the sentence it keeps the reason in words and every deciding sentence
(processor/verdicts.py). Pure functions.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from processor.verdicts import Event

if TYPE_CHECKING:
    from processor.alerting import Report


def evidence_link(
    alert_id: uuid.UUID, status: str, opened: bool, event: Event, report: Report, now: datetime
) -> dict[str, Any]:
    """The ``alert_articles`` row of ``report`` as evidence of an alert (with the article's
    link and title, for the snapshot)."""
    return {
        "alert_id": alert_id,
        "article_id": report.article_id,
        "opened": opened,
        "status": status,
        "outlet": report.outlet,
        "language": report.language,
        "confidence": event.confidence,
        "evidence": event.evidence,
        "evidence_language": event.language or report.language,
        "reason": event.reason,
        "sentences": [q.row() for q in event.quotes],
        "added_at": now,
        "url": report.url,
        "title": report.title,
    }


def shown(link: dict[str, Any]) -> dict[str, Any]:
    """One piece of evidence as subscribers see it: ``language`` is the sentence's (the
    article's for evidence stored before sentences had theirs), ``article_language`` the
    article's main language."""
    language = link["evidence_language"] or link["language"]
    return {
        "article_id": str(link["article_id"]),
        "url": link["url"],
        "title": link["title"],
        "outlet": link["outlet"],
        "language": language,
        "article_language": link["language"],
        "confidence": link["confidence"],
        "snippet": link["evidence"],
        "reason": link["reason"],
        "sentences": link["sentences"] or [sentence(link["evidence"], language, link["reason"])],
    }


def sentence(text: str, language: str | None, reason: str) -> dict[str, Any]:
    """A deciding sentence of evidence stored before sentences were kept: no offsets."""
    return {"text": text, "start": None, "end": None, "language": language, "reason": reason}
