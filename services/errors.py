"""Every exception Drawdown raises on purpose.

DrawdownError
├── ConfigError            settings or a data file are unusable
├── InputError             a document cannot be read (bad encoding, binary, empty)
├── MessageError           a bus message is not a valid schema-versioned document
└── BusError               the message bus failed in a way the caller must see
"""


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
