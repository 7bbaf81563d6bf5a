"""The widget's demo: a made-up clinic website with the chat on it, open to everyone.

It stands for a clinic's own site, so it is not a page of the app: no sign-in, no navigation.
The owner's channel page links here with `?channel=<key>` to preview their widget; without it
the demo clinic's first active website chat is shown. Channel keys are public (they are in the
embed snippet on the clinic's site), so showing any clinic's widget here reveals nothing.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.management.commands.seed_demo import DEMO_CLINIC
from inbox.models import Channel, ChannelKind

WIDGET_SCRIPT = "widget.js"
# The demo site's pages (path segment → title); "" is the home page.
PAGES = {"": "Главная", "prices": "Цены", "doctors": "Врачи", "contacts": "Контакты"}


def widget_script_url(request: HttpRequest) -> str:
    """The widget script's absolute address: the clinic's site loads it from us. Its plain
    name, not the hashed one of the release: the snippet pasted on a site must survive our
    next deploy (whitenoise serves both)."""
    return request.build_absolute_uri(f"/{settings.STATIC_URL.strip('/')}/{WIDGET_SCRIPT}")


def embed_snippet(request: HttpRequest, channel: Channel) -> str:
    """What the owner pastes into every page of the clinic's site."""
    return (f'<script async src="{widget_script_url(request)}" '
            f'data-channel="{channel.key}"></script>')


def _channel(key: str) -> Channel | None:
    channels = Channel.objects.filter(kind=ChannelKind.WEBCHAT, is_active=True).order_by("pk")
    if key:
        return channels.filter(key=key).first()
    return channels.filter(clinic__name=DEMO_CLINIC).first()


# Scripts stay 'self' only (the widget is one of ours); inline styles are allowed as on a
# typical clinic site, for the page's own look and whatever styles the widget injects.
@csp_update({"style-src": [UNSAFE_INLINE]})
def demo(request: HttpRequest, page: str = "") -> HttpResponse:
    if page not in PAGES:
        raise Http404
    key = request.GET.get("channel", "")[:64]
    return render(request, "widget/demo.html", {
        "page": page, "title": PAGES[page], "pages": PAGES, "channel": _channel(key),
        "channel_param": key, "script_url": widget_script_url(request)})
