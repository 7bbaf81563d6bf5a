"""On which channel a message reaches a patient: their order (else the rule's, else the
clinic's), intersected with their consent for the topic and with what can reach them now.

- Telegram: only where the patient has written to the clinic's bot (a bot cannot write first).
- WhatsApp: free text within 24 hours of the patient's last message; otherwise the rule's
  approved template, to a contact we know or to the patient's phone.
- Website chat: where the patient has chatted; they see it when they next open the widget.
- SMS: no SMS provider is connected yet, so never.
- E-mail: when the clinic's server sends mail (EMAIL_FROM is set) and the patient has an address.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from campaigns.models import CampaignSettings, Rule, RuleKind
from clinic.models import Patient
from clinic.selectors import consent_granted
from inbox.models import Channel, ChannelKind, Conversation
from inbox.services.outbound import whatsapp_window_open


@dataclass(frozen=True)
class Route:
    channel: str
    conversation: Conversation | None = None  # None: e-mail
    whatsapp_channel: Channel | None = None  # WhatsApp to a number nobody has written from
    template: bool = False  # WhatsApp outside its 24-hour window


@dataclass
class RouteSearch:
    route: Route | None = None
    no_consent: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    @property
    def why(self) -> str:
        return "; ".join(self.unreachable + [_("%(channel)s: no consent") % {"channel": c}
                                             for c in self.no_consent])


def channel_order(*, patient: Patient, rule: Rule, settings_: CampaignSettings) -> list[str]:
    if rule.kind == RuleKind.EDUCATION:
        return ["email"]
    own = [patient.preferred_channel, *patient.channel_order] if patient.preferred_channel \
        else list(patient.channel_order)
    order = own + list(rule.channel_order or settings_.channel_order)
    return [c for c in dict.fromkeys(order) if c]


def _template_ok(rule: Rule, channel: Channel) -> bool:
    return bool(rule.whatsapp_template) and any(
        t.get("name") == rule.whatsapp_template for t in channel.whatsapp_templates)


def _route(kind: str, patient: Patient, rule: Rule, conversations: list[Conversation],
           whatsapp_channels: list[Channel], now) -> tuple[Route | None, str]:
    mine = [c for c in conversations if c.channel.kind == kind and c.channel.is_active]
    if kind == ChannelKind.TELEGRAM:
        wrote = [c for c in mine if c.last_patient_message_at is not None]
        return (Route(kind, wrote[0]), "") if wrote else (
            None, _("Telegram: the patient has not written to the bot"))
    if kind == ChannelKind.WEBCHAT:
        return (Route(kind, mine[0]), "") if mine else (
            None, _("website chat: the patient has not chatted"))
    if kind == ChannelKind.WHATSAPP:
        for conversation in mine:
            if whatsapp_window_open(conversation=conversation, now=now):
                return Route(kind, conversation), ""
        for conversation in mine:
            if _template_ok(rule, conversation.channel):
                return Route(kind, conversation, template=True), ""
        if patient.phone and not mine:
            for channel in whatsapp_channels:
                if _template_ok(rule, channel):
                    return Route(kind, whatsapp_channel=channel, template=True), ""
        if not mine and not (patient.phone and whatsapp_channels):
            return None, _("WhatsApp: no chat and no number")
        return None, _("WhatsApp: outside the 24-hour window and the rule has no approved "
                       "template")
    if kind == "email":
        if not settings.EMAIL_FROM:
            return None, _("e-mail: the clinic does not send e-mail")
        return (Route(kind), "") if patient.email else (None, _("e-mail: no address"))
    if kind == "sms":
        return None, _("SMS: no SMS provider is connected")
    return None, _("%(channel)s: cannot be sent automatically") % {"channel": kind}


def route_find(*, patient: Patient, rule: Rule, settings_: CampaignSettings,
               events: list, conversations: list[Conversation],
               whatsapp_channels: list[Channel], now) -> RouteSearch:
    """The first channel in the patient's order that reaches them and has their consent."""
    search = RouteSearch()
    for kind in channel_order(patient=patient, rule=rule, settings_=settings_):
        route, why = _route(kind, patient, rule, conversations, whatsapp_channels, now)
        if route is None:
            search.unreachable.append(why)
        elif not consent_granted(events=events, topic=rule.topic, channel=kind):
            search.no_consent.append(kind)
        else:
            search.route = route
            break
    return search
