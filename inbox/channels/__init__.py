"""Channel adapters behind one interface (base.Adapter), looked up by channel kind."""

from inbox.channels.base import Adapter
from inbox.channels.telegram import TelegramAdapter
from inbox.channels.webchat import WebchatAdapter
from inbox.channels.whatsapp import WhatsAppAdapter

ADAPTERS: dict[str, Adapter] = {
    "telegram": TelegramAdapter(),
    "whatsapp": WhatsAppAdapter(),
    "webchat": WebchatAdapter(),
}


def adapter_for(kind: str) -> Adapter:
    return ADAPTERS[kind]
