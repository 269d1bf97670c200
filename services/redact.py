"""Secrets out of text: URL passwords, webhook secrets, bearer tokens. Pure functions.

Applied to every log record (services.logs), to fetch errors (a source URL may carry
credentials) and to settings errors, so no line Drawdown writes shows a password
that was part of a URL, a ``whsec_`` secret or an ``Authorization`` value.
"""

from __future__ import annotations

import re

MASK = "***"
_PATTERNS = (
    # scheme://user:password@host → scheme://user:***@host
    (re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]*@"), rf"\g<keep>{MASK}@"),
    # Standard Webhooks secrets
    (re.compile(r"whsec_[A-Za-z0-9+/=_-]+"), f"whsec_{MASK}"),
    # Authorization header values
    (re.compile(r"(?i)(?P<keep>\bbearer\s+)[^\s'\",;]+"), rf"\g<keep>{MASK}"),
)


def redact(text: str) -> str:
    """``text`` with URL passwords, webhook secrets and bearer tokens masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
