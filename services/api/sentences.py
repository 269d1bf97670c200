"""The deciding sentences of an event or a piece of alert evidence, as the API shows them.

Rows stored before sentences were kept have none: their one evidence sentence stands in,
with the offsets the row has (events) or none (alert evidence).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SentenceOut(BaseModel):
    """One sentence that decided what was read, as written."""

    text: str
    start: int | None = Field(description="offset into the article's text; null if not kept")
    end: int | None
    language: str | None = Field(description="the language of the sentence's paragraph")
    reason: str = Field(description="what the sentence says, in words")


def sentences_out(
    stored: list[dict[str, Any]] | None,
    text: str,
    language: str | None,
    reason: str,
    start: int | None = None,
    end: int | None = None,
) -> list[SentenceOut]:
    if stored:
        return [SentenceOut.model_validate(s) for s in stored]
    return [SentenceOut(text=text, start=start, end=end, language=language, reason=reason)]
