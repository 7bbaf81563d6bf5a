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
from django.utils.translation import gettext as _


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
class Media:
    content: bytes
    mime: str
    name: str = ""


@dataclass(frozen=True)
class Outbound:
    """What to send. `to` is the provider's id of the recipient (chat id, wa_id)."""

    to: str
    text: str = ""  # the caption when a file goes with it
    buttons: tuple[tuple[str, str], ...] = ()  # (id, title)
    template: dict[str, Any] | None = None
    file: Media | None = None
    file_kind: str = ""  # image / document


def download(client: httpx.Client, url: str, *, max_bytes: int, provider: str,
             headers: dict[str, str] | None = None) -> bytes:
    """GET a file, refusing (permanently) to read past `max_bytes`."""
    chunks, size = [], 0
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise ChannelError(_("%(provider)s file download failed: HTTP %(status)s")
                                   % {"provider": provider, "status": response.status_code},
                                   permanent=response.status_code < 500,
                                   code=str(response.status_code))
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ChannelError(too_large(max_bytes),
                                       permanent=True, code="too_large")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise network_error(provider, error) from error
    return b"".join(chunks)


class Adapter(Protocol):
    kind: str

    def verify(self, channel: Any, headers: Any, body: bytes) -> bool: ...

    def parse(self, channel: Any, body: bytes) -> list[Event]: ...

    def send(self, channel: Any, outbound: Outbound) -> str: ...

    def answer_button(self, channel: Any, callback_id: str) -> None: ...

    def fetch_media(self, channel: Any, provider_ref: str, max_bytes: int) -> Media: ...


def http_client() -> httpx.Client:
    return httpx.Client(timeout=settings.CHANNEL_HTTP_TIMEOUT)


def network_error(provider: str, error: httpx.HTTPError) -> ChannelError:
    return ChannelError(_("%(provider)s did not answer (%(error)s)")
                        % {"provider": provider, "error": error.__class__.__name__},
                        permanent=False, code="network")


def too_large(max_bytes: int) -> str:
    return _("The file is larger than %(mb)s MB") % {"mb": max_bytes // 2**20}
