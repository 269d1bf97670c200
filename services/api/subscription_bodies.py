"""The bodies of ``/subscriptions``: what a request may send and what it is answered.

A subscription names a webhook endpoint (``url``) or an Apprise URL (``apprise``),
exactly one of the two, as in the sources file. The body is one model with both keys
and the rule stated in the OpenAPI document (``oneOf`` of the keys present), so a
mistake is a 422 naming the field (``["body", "url"]``) and whatever the document
allows is accepted. An Apprise URL has the format ``apprise-url``: one Apprise can send
to, which no pattern can state (each service has its own form). Apprise subscriptions
are not signed, so they have no ``secret``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from services.api.vocabulary import (
    NO_NUL,
    Country,
    EventKind,
    HttpUrl,
    LanguageCode,
    MinStatus,
    Name,
    Origin,
    PlaceId,
    Storable,
)
from services.webhooks import notify
from services.webhooks import subscriptions as rows

# ``whsec_`` and the base64 of 24 to 64 bytes (rows.valid_secret), as a pattern.
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = (
    rf"^whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    rf"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)
# An Apprise URL is one Apprise can send to: each service has its own form, so the
# document states it as a format of its own, with no pattern that would admit URLs
# Apprise refuses.
APPRISE_FORMAT = "apprise-url"
MAX_FILTER_VALUES = 100


def _known(key: str) -> AfterValidator:
    return AfterValidator(lambda values: list(rows.check_known(key, values)))


Places = Annotated[
    list[PlaceId],
    Field(max_length=MAX_FILTER_VALUES, description="place ids (GET /places); [] = all"),
    _known("places"),
]
Countries = Annotated[
    list[Country],
    Field(max_length=MAX_FILTER_VALUES, description="the places' countries; [] = all"),
    _known("countries"),
]
Kinds = Annotated[
    list[EventKind], Field(max_length=MAX_FILTER_VALUES, description="event kinds; [] = all")
]
Languages = Annotated[
    list[LanguageCode],
    Field(max_length=MAX_FILTER_VALUES, description="any of the alert's languages; [] = all"),
    AfterValidator(lambda values: list(dict.fromkeys(values))),
]
MinConfidence = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, strict=True, description="0 to 1"),
]
Description = Annotated[str, Field(max_length=2000, pattern=NO_NUL), Storable]
Secret = Annotated[
    str,
    Field(
        pattern=SECRET_PATTERN,
        description="Standard Webhooks secret: whsec_ and the base64 of 24 to 64 bytes",
    ),
    AfterValidator(rows.check_secret),
]
AppriseUrl = Annotated[
    str,
    Field(
        max_length=2048,
        json_schema_extra={"format": APPRISE_FORMAT},
        description="an Apprise URL (slack://…, tgram://…, ntfys://…, mailtos://…, json://…) "
        "that Apprise can send to, not http(s): see the Apprise documentation for each "
        "service's form",
    ),
    AfterValidator(notify.check_apprise_url),
    Storable,
]
Kind = Literal["webhook", "apprise"]


class DeliveryCounts(BaseModel):
    pending: int
    delivered: int
    dead: int
    cancelled: int


class SubscriptionOut(BaseModel):
    """A subscription, never with its secret."""

    id: int
    name: str
    kind: Kind = Field(description="webhook: a signed POST to url; apprise: an Apprise message")
    url: str | None = Field(
        description="the endpoint, shown only to a request with the bearer token (a webhook "
        "URL is often a secret itself; an Apprise URL is shown with its token masked); "
        "null otherwise"
    )
    host: str = Field(
        description="the webhook endpoint's host, or the Apprise URL's scheme (its host may "
        "be its token), shown to everyone"
    )
    description: str | None
    origin: Origin = Field(
        description="file: the sources file's (deactivated by a reload that no longer "
        "lists it); api: made through the API"
    )
    active: bool
    disabled_reason: str | None = Field(
        description="why it is inactive: 'gone: …' (its endpoint answered 410), "
        "'removed: …' or 'inactive: …' (the sources file), 'disabled: …' (the API)"
    )
    places: list[str]
    countries: list[str]
    kinds: list[EventKind]
    languages: list[str]
    min_confidence: float
    min_status: MinStatus | None = Field(description="null: every status, disputes included")
    consecutive_failures: int = Field(description="failed attempts in a row (circuit breaker)")
    paused_until: datetime | None = Field(description="the circuit breaker holds it until then")
    deliveries: DeliveryCounts
    created_at: datetime
    updated_at: datetime


class SubscriptionSecret(SubscriptionOut):
    secret: str | None = Field(
        description="the signing secret of a webhook; no other answer shows it (null for "
        "an Apprise subscription, which is not signed)"
    )


class SubscriptionChanged(SubscriptionOut):
    secret: str | None = Field(
        None,
        description="a signing secret generated because an Apprise subscription became a "
        "webhook, shown this once; null otherwise",
    )


# One of the two keys; a secret only with a webhook url (an Apprise message is not signed).
_URL_OR_APPRISE: JsonDict = {
    "oneOf": [
        {"required": ["url"], "not": {"required": ["apprise"]}},
        {
            "required": ["apprise"],
            "not": {"anyOf": [{"required": ["url"]}, {"required": ["secret"]}]},
        },
    ]
}


class SubscriptionCreate(BaseModel):
    """A subscription as the sources file would define it: ``url`` (a webhook) or
    ``apprise``, exactly one; ``secret`` only with ``url``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_URL_OR_APPRISE)

    name: Name = Field(description="unique; how the command line names it")
    # Both keys are optional in the model and exactly one is required by the rule above.
    url: HttpUrl = Field(default_factory=str, description="a webhook endpoint: http(s)")
    apprise: AppriseUrl = Field(default_factory=str)
    secret: Secret | None = Field(None, description="generated for a webhook when absent")
    description: Description | None = None
    active: bool = Field(True, strict=True)
    places: Places = []
    countries: Countries = []
    kinds: Kinds = []
    languages: Languages = []
    min_confidence: MinConfidence = 0.0
    min_status: MinStatus | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SubscriptionCreate:
        given = {"url", "apprise"} & self.model_fields_set
        if len(given) != 1:
            raise ValueError(
                "give one of 'url' (a webhook endpoint) and 'apprise' (an Apprise URL)"
            )
        if "apprise" in given and "secret" in self.model_fields_set:
            raise ValueError("'secret' signs webhooks: an Apprise subscription has none")
        return self

    @property
    def target(self) -> str:
        """The URL stored: the webhook's or the Apprise one."""
        return self.apprise if "apprise" in self.model_fields_set else self.url


class SubscriptionUpdate(BaseModel):
    """Fields to change; absent fields stay as they are, ``null`` resets one to its
    default (no description, no filter, ``min_confidence`` 0). ``url`` and ``apprise``
    exclude each other; either may replace the other kind."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"not": {"required": ["url", "apprise"]}}
    )

    # Fields that cannot be null default to a placeholder: only the fields given apply.
    url: HttpUrl = Field(default_factory=str, description="a webhook endpoint: http(s)")
    apprise: AppriseUrl = Field(default_factory=str)
    active: bool = Field(
        default_factory=bool,
        strict=True,
        description="true re-activates it, also after a 410 Gone",
    )
    description: Description | None = None
    places: Places | None = None
    countries: Countries | None = None
    kinds: Kinds | None = None
    languages: Languages | None = None
    min_confidence: MinConfidence | None = None
    min_status: MinStatus | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SubscriptionUpdate:
        if {"url", "apprise"} <= self.model_fields_set:
            raise ValueError("give 'url' (a webhook endpoint) or 'apprise', not both")
        return self


class PingOut(BaseModel):
    """What the endpoint answered to a ``webhook.test`` event (signed for a webhook, a
    test message for an Apprise URL)."""

    webhook_id: str = Field(description="msg_test_…, new for every ping")
    delivered: bool = Field(description="the endpoint answered 2xx (Apprise: it was sent)")
    status: int | None = Field(description="the HTTP status; null when there was no answer")
    error: str | None = Field(description="why there was no answer, e.g. 'timeout: …'")
    blocked: bool = Field(description="the address is one webhooks may not go to")
    latency_ms: float
    response: str | None = Field(description="the answer's first KiB")


class Requeued(BaseModel):
    requeued: int = Field(description="dead deliveries made due again")
    held: int = Field(description="pending deliveries that wait while it is inactive")
