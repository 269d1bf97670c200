"""Every exception Drawdown raises on purpose.

DrawdownError
├── ConfigError            settings or a data file are unusable
├── InputError             a document cannot be read (bad encoding, binary, empty)
├── MessageError           a bus message is not a valid schema-versioned document
├── BusError               the message bus failed in a way the caller must see
├── DatabaseError          the database cannot be reached or is not usable
│   └── WriteConflict      another writer stored the same row first: retry the transaction
├── FetchError             a URL could not be fetched; ``reason`` says how (for scheduling)
├── FeedError              a document is not a feed (RSS, Atom or JSON Feed)
└── BlockedAddressError    a URL's host resolves to an address the SSRF guard refuses
"""

from __future__ import annotations

from typing import Any, Literal

from services.redact import redact


class DrawdownError(Exception):
    """Base of every deliberate Drawdown error."""


class ConfigError(DrawdownError):
    """Settings, the sources file or a data file are unusable."""


class InputError(DrawdownError):
    """A document cannot be read: undecodable, binary, empty or unsupported."""


class MessageError(DrawdownError):
    """A bus message does not decode into the expected schema."""


class BusError(DrawdownError):
    """The message bus cannot be reached or refused a request."""


class DatabaseError(DrawdownError):
    """The database cannot be reached or is not usable."""


class WriteConflict(DatabaseError):
    """Another writer stored a row this transaction meant to create: retry it, and the
    retry finds that row."""


FetchReason = Literal[
    "timeout",
    "connect",
    "http",
    "too_large",
    "redirects",
    "content_type",
    "robots",
    "invalid_url",
    "blocked",
    "binary",
]


class FetchError(DrawdownError):
    """A URL could not be fetched.

    ``url`` is the URL whose request failed (a redirect target, if it got that far).
    ``reason`` is what the poller schedules on: ``timeout``, ``connect``, ``http``
    (``status`` set; ``retry_after`` in seconds when a 429/503 said when to come back),
    ``too_large``, ``redirects`` (too many or a loop), ``content_type``, ``robots``,
    ``invalid_url``, ``blocked`` (the SSRF guard refused the address; nothing was sent),
    ``binary`` (the body is not text, whatever its declared type). ``str(error)`` is a
    one-line message fit for a source's last_error.
    """

    def __init__(
        self,
        url: str,
        reason: FetchReason,
        message: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.reason: FetchReason = reason
        self.message = message or reason.replace("_", " ")
        self.status = status
        self.retry_after = retry_after
        super().__init__(redact(f"{reason}: {self.message} ({url})"))

    def __reduce__(self) -> tuple[Any, ...]:
        # Survive pickling (process pools): rebuild from the fields, not from str(self).
        state = {"status": self.status, "retry_after": self.retry_after}
        return (type(self), (self.url, self.reason, self.message), state)


class FeedError(DrawdownError):
    """A document is not a feed: no entries and no feed title or version, or not readable."""


class BlockedAddressError(DrawdownError):
    """A URL's host resolved to an address the SSRF guard refuses (never connected)."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        target = address if host == address else f"{host} resolves to {address}"
        super().__init__(f"blocked address: {target} ({reason})")
