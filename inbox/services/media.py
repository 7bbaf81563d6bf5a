"""Fetching the files patients send into our storage, with size and type limits."""

import logging
import mimetypes
import re
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.channels import adapter_for
from inbox.channels.base import ChannelError, too_large
from inbox.models import Message

logger = logging.getLogger(__name__)
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _allowed(mime: str) -> bool:
    base = mime.split(";")[0].strip().lower()
    return any(base == t or (t.endswith("/*") and base.startswith(t[:-1]))
               for t in settings.MEDIA_ALLOWED_TYPES)


def _file_name(message: Message, index: int, name: str, mime: str) -> str:
    extension = mimetypes.guess_extension(mime.split(";")[0]) or ""
    stem = SAFE_NAME.sub("_", name)[:80] or f"file{extension}"
    return f"inbox/{message.channel.clinic_id}/{message.pk}/{index}-{stem}"


def media_fetch(*, message_id: int, now: datetime) -> float | None:
    """Download every attachment not yet stored. Returns seconds to retry after, if any failed
    for a temporary reason; permanent problems are recorded on the attachment for people."""
    message = Message.objects.select_related("channel").get(pk=message_id)
    adapter = adapter_for(message.channel.kind)
    results: dict[int, dict] = {}
    retry = False
    for index, item in enumerate(message.attachments):
        if item.get("file") or item.get("error"):
            continue
        size = item.get("size") or 0
        if size > settings.MEDIA_MAX_BYTES:
            results[index] = {"error": too_large(settings.MEDIA_MAX_BYTES)}
            continue
        try:
            media = adapter.fetch_media(message.channel, item["provider_ref"],
                                        settings.MEDIA_MAX_BYTES)
        except ChannelError as error:
            attempts = item.get("attempts", 0) + 1
            if error.permanent or attempts >= settings.MEDIA_MAX_ATTEMPTS:
                results[index] = {"error": error.reason, "attempts": attempts}
            else:
                results[index] = {"attempts": attempts}
                retry = True
            logger.info("message %s attachment %s: %s", message_id, index, error.reason)
            continue
        mime = media.mime or item.get("mime") or "application/octet-stream"
        if not _allowed(mime):
            results[index] = {"error": _("Files of type %(mime)s are not accepted")
                              % {"mime": mime}}
            continue
        path = default_storage.save(_file_name(message, index, item.get("name") or media.name,
                                               mime), ContentFile(media.content))
        results[index] = {"file": path, "mime": mime, "size": len(media.content),
                          "fetched_at": now.isoformat()}
    if results:
        with transaction.atomic():
            locked = Message.objects.select_for_update().get(pk=message_id)
            for index, changes in results.items():
                locked.attachments[index].update(changes)
            locked.save(update_fields=["attachments"])
    return settings.MEDIA_RETRY_SECONDS if retry else None
