"""The one interface every channel adapter implements, and the events it produces.

An adapter turns a provider's webhook into normalised events and sends our messages through the
provider's HTTP API. It knows nothing of the database: services store what it parses and record
what it sends.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
from django.conf import settings


class PayloadError(ValueError):
    """The webhook body is not a payload this channel understands (answered 400)."""


class ChannelError(Exception):
    """A send failed. `permanent` errors are not retried; `reason` is for people."""

    def __init__(self, reason: str, *, permanent: bool, code: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class Sender:
    external_id: str
    display_name: str = ""
    username: str = ""
    phone: str = ""  # as the provider gives it; normalised by the service
    bsuid: str = ""


@dataclass(frozen=True)
class Attachment:
    kind: str  # image / document / audio
    provider_ref: str  # Telegram file_id, WhatsApp media id
    mime: str = ""
    size: int | None = None
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "provider_ref": self.provider_ref, "mime": self.mime,
                "size": self.size, "name": self.name}


@dataclass(frozen=True)
class InboundMessage:
    sender: Sender
    provider_message_id: str
    sent_at: datetime
    kind: str = "text"
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    # A shared contact: its phone, and whether it is provably the sender's own number.
    contact_phone: str = ""
    contact_is_senders_own: bool = False
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundEdit:
    sender: Sender
    provider_message_id: str
    text: str
    sent_at: datetime
    edited_at: datetime


@dataclass(frozen=True)
class ButtonPress:
    """A tap on one of our buttons. `data` comes from the client and must not be trusted."""

    sender: Sender
    provider_message_id: str  # unique key of the press itself
    data: str
    title: str
    sent_at: datetime | None = None  # Telegram gives callback queries no time: "when received"
    callback_id: str = ""  # Telegram: must be answered with answerCallbackQuery
    replied_to: str = ""  # provider id of our message that carried the button


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str  # sent / delivered / read / failed
    at: datetime
    error_code: str = ""
    error_text: str = ""


Event = InboundMessage | InboundEdit | ButtonPress | StatusUpdate


@dataclass(frozen=True)
class Outbound:
    """What to send. `to` is the provider's id of the recipient (chat id, wa_id)."""

    to: str
    text: str = ""
    buttons: tuple[tuple[str, str], ...] = ()  # (id, title)
    template: dict[str, Any] | None = None


class Adapter(Protocol):
    kind: str

    def verify(self, channel: Any, headers: Any, body: bytes) -> bool: ...

    def parse(self, channel: Any, body: bytes) -> list[Event]: ...

    def send(self, channel: Any, outbound: Outbound) -> str: ...

    def answer_button(self, channel: Any, callback_id: str) -> None: ...


def http_client() -> httpx.Client:
    return httpx.Client(timeout=settings.CHANNEL_HTTP_TIMEOUT)


def network_error(provider: str, error: httpx.HTTPError) -> ChannelError:
    return ChannelError(f"{provider} did not answer: {error.__class__.__name__}",
                        permanent=False, code="network")
