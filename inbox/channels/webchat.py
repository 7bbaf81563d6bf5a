"""The clinic website's chat: our own JSON API, so there is no provider to call.

A visitor holds an unguessable token issued by the server; we store only its SHA-256, as the
contact's external id. Replies are "sent" the moment they are queued for the widget to fetch.
"""

import hashlib
import secrets
from typing import Any

from inbox.channels.base import ChannelError, Event, Media, Outbound

TOKEN_PREFIX = "v1."


def visitor_token_new() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def visitor_external_id(token: str) -> str:
    return "visitor:" + hashlib.sha256(token.encode()).hexdigest()


class WebchatAdapter:
    kind = "webchat"

    def verify(self, channel: Any, headers: Any, body: bytes) -> bool:
        return False  # the widget API authenticates visitors itself (inbox/webchat.py)

    def parse(self, channel: Any, body: bytes) -> list[Event]:
        return []

    def send(self, channel: Any, outbound: Outbound) -> str:
        return f"webchat:{secrets.token_hex(12)}"

    def answer_button(self, channel: Any, callback_id: str) -> None:
        """Widget buttons need no acknowledgement."""

    def fetch_media(self, channel: Any, provider_ref: str, max_bytes: int) -> Media:
        raise ChannelError("website chat files are uploaded, not fetched", permanent=True)
