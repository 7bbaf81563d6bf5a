from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.access import clinic_view
from clinic.models import Role
from inbox.channels.base import ChannelError
from inbox.forms import ChannelForm
from inbox.models import Channel, ChannelKind
from inbox.services.channels import channel_save, telegram_webhook_register


@clinic_view()
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/index.html")


def _webhook_url(request: HttpRequest, channel: Channel) -> str:
    if channel.kind == ChannelKind.WEBCHAT:
        return request.build_absolute_uri(reverse("hook-webchat", args=[channel.key, "session"]))
    return request.build_absolute_uri(reverse(f"hook-{channel.kind}", args=[channel.key]))


@clinic_view(Role.OWNER)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = list(Channel.objects.filter(clinic=request.clinic).order_by("kind", "name"))
    for channel in channels:
        channel.webhook_url = _webhook_url(request, channel)
    return render(request, "inbox/channels.html", {
        "tab": "channels", "channels": channels, "kinds": ChannelKind.choices})


@clinic_view(Role.OWNER)
def channel_edit(request: HttpRequest, channel_id: int | None = None,
                 kind: str = "") -> HttpResponse:
    if channel_id is None:
        if kind not in ChannelKind.values:
            raise Http404
        channel = Channel(clinic=request.clinic, kind=kind)
    else:
        channel = get_object_or_404(Channel, pk=channel_id, clinic=request.clinic)
    form = ChannelForm(request.POST or None, instance=channel, kind=channel.kind)
    if request.method == "POST" and form.is_valid():
        channel_save(channel=channel, changes=form.changes(), changed_by=request.user,
                     now=clock.now())
        messages.success(request, _("Channel saved."))
        return redirect("channels:list")
    return render(request, "inbox/channel_form.html", {
        "tab": "channels", "form": form, "channel": channel,
        "webhook_url": _webhook_url(request, channel) if channel.pk else ""})


@require_POST
@clinic_view(Role.OWNER)
def channel_register_webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id, clinic=request.clinic,
                                kind=ChannelKind.TELEGRAM)
    try:
        telegram_webhook_register(channel=channel, url=_webhook_url(request, channel))
    except ChannelError as error:
        messages.error(request, _("Telegram refused: %(reason)s") % {"reason": error.reason})
    else:
        messages.success(request, _("Telegram will now send this bot's messages here."))
    return redirect("channels:list")
