"""The website chat widget: its settings, what it tells a visitor about when the clinic answers,
and what a visitor says about themselves in the pre-chat form.

What a visitor types is never taken as who they are: a phone from the form only suggests
patients to the administrator, who confirms the link (see `contact_patient_link`). The consent
given in the form follows the contact to the patient's consent ledger once it is linked.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.hours import NoWorkingTime, add_working_minutes, is_working_time, next_working_time
from clinic.models import (
    Availability,
    Clinic,
    ConsentEvent,
    ConsentSource,
    ConsentTopic,
    Membership,
    Patient,
)
from clinic.phones import phone_normalize
from clinic.selectors import clinic_hours
from clinic.services import consent_record
from inbox.models import Channel, ContactIdentity, default_widget
from inbox.services.assignment import members_free, queue_wait_minutes
from inbox.services.auto_replies import when_phrase
from inbox.services.live import inbox_changed

FORM_FIELDS = ("name", "phone")
POSITIONS = ("right", "left")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
INVITE_SECONDS = (5, 600)
INVITE_PATTERN = re.compile(r"^[/*]\S*$")  # a glob on the URL path: "*", "/prices*", "*/akcii"
MAX_INVITES = 20
MAX_INVITE_TEXT = 300
MAX_GREETING = 500
MAX_CONSENT_TEXT = 500  # the consent ledger keeps the text as evidence, up to 500 characters
MAX_NAME = 100


@dataclass(frozen=True)
class Invite:
    """Shown once per visit after `idle_seconds` without activity on a page matching
    `pattern` (a glob on the URL path: "*" for every page, "/prices*")."""

    pattern: str
    idle_seconds: int
    text: str


@dataclass(frozen=True)
class WidgetSettings:
    greeting: str
    form_enabled: bool
    form_fields: tuple[str, ...]
    form_required: tuple[str, ...]
    consent_text: str
    color: str
    position: str
    invites: tuple[Invite, ...] = field(default_factory=tuple)


def widget_settings(*, channel: Channel) -> WidgetSettings:
    """The channel's widget settings, the defaults filling whatever is missing or unusable
    (the form validates what it saves; this keeps an old or hand-edited row harmless)."""
    saved = channel.widget if isinstance(channel.widget, dict) else {}
    data = {**default_widget(), **saved}
    fields = tuple(f for f in FORM_FIELDS if f in (data["form_fields"] or []))
    invites = []
    for item in data["invites"] if isinstance(data["invites"], list) else []:
        try:
            invite = Invite(str(item["pattern"]), int(item["idle_seconds"]), str(item["text"]))
        except (KeyError, TypeError, ValueError):
            continue
        if INVITE_PATTERN.match(invite.pattern) and invite.text:
            invites.append(invite)
    return WidgetSettings(
        greeting=str(data["greeting"] or ""),
        form_enabled=bool(data["form_enabled"]),
        form_fields=fields,
        form_required=tuple(f for f in fields if f in (data["form_required"] or [])),
        consent_text=str(data["consent_text"] or ""),
        color=data["color"] if COLOR.match(str(data["color"])) else default_widget()["color"],
        position=data["position"] if data["position"] in POSITIONS else "right",
        invites=tuple(invites))


def invites_parse(text: str) -> list[dict[str, Any]]:
    """The settings page's invite rules, one "pattern | seconds | text" a line, as stored.

    Raises ValidationError naming the first bad line."""
    invites = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        problem = ""
        if len(parts) != 3 or not parts[2]:
            problem = _("write “pattern | seconds | text”")
        elif not INVITE_PATTERN.match(parts[0]):
            problem = _("the page is “*” or a path starting with / or *, such as /prices*")
        elif not parts[1].isdigit() or not (
                INVITE_SECONDS[0] <= int(parts[1]) <= INVITE_SECONDS[1]):
            problem = _("the seconds are a whole number from %(low)s to %(high)s") % {
                "low": INVITE_SECONDS[0], "high": INVITE_SECONDS[1]}
        elif len(parts[2]) > MAX_INVITE_TEXT:
            problem = _("the text is longer than %(n)s characters") % {"n": MAX_INVITE_TEXT}
        if problem:
            raise ValidationError(_("Line %(line)s: %(problem)s."),
                                  params={"line": number, "problem": problem})
        invites.append({"pattern": parts[0], "idle_seconds": int(parts[1]), "text": parts[2]})
    if len(invites) > MAX_INVITES:
        raise ValidationError(_("At most %(n)s invitations."), params={"n": MAX_INVITES})
    return invites


def invites_format(invites: list[dict[str, Any]]) -> str:
    return "\n".join(f"{i['pattern']} | {i['idle_seconds']} | {i['text']}" for i in invites)


# --- When the clinic answers ----------------------------------------------------------------

@dataclass(frozen=True)
class AnswerStatus:
    online: bool  # someone of the clinic's staff is online (they are who get new chats)
    open: bool  # inside working hours (evening duty included)
    answer_at: datetime | None  # when a visitor writing now can expect the answer (clinic tz)
    answer_text: str  # the same for people, in the active language; "" when it is now
    expected_wait_minutes: int | None  # only when everyone online is at the dialogue cap


def answer_status(*, clinic: Clinic, now: datetime) -> AnswerStatus:
    """What the widget tells a visitor before they write, by the rules the automatic replies
    follow: out of hours, the next opening (as in the out-of-hours reply); everyone online at
    the cap, the queue greeting's estimate; nobody online, the clinic's first-reply standard."""
    hours = clinic_hours(clinic=clinic)
    now = now.astimezone(hours.timezone)  # every answer_at in the clinic's time
    online = list(Membership.objects.filter(clinic=clinic, availability=Availability.ONLINE)
                  .values_list("user_id", flat=True))
    if not is_working_time(hours, now):
        try:
            opening = next_working_time(hours, now)
        except NoWorkingTime:
            return AnswerStatus(bool(online), False, None,
                                _("The clinic is closed now. Leave a message and we will "
                                  "answer."), None)
        return AnswerStatus(bool(online), False, opening,
                            _("The clinic is closed now. We will answer %(when)s.")
                            % {"when": when_phrase(opening, now)}, None)
    if not online:
        minutes = clinic.first_reply_minutes
        return AnswerStatus(False, True, add_working_minutes(hours, now, minutes),
                            ngettext("We will answer within %(minutes)s minute.",
                                     "We will answer within %(minutes)s minutes.", minutes)
                            % {"minutes": minutes}, None)
    if members_free(clinic=clinic).exists():
        return AnswerStatus(True, True, now, "", None)
    minutes = queue_wait_minutes(clinic=clinic)
    return AnswerStatus(True, True, now + timedelta(minutes=minutes),
                        ngettext("All administrators are busy; we will answer in about "
                                 "%(minutes)s minute.",
                                 "All administrators are busy; we will answer in about "
                                 "%(minutes)s minutes.", minutes) % {"minutes": minutes},
                        minutes)


# --- The pre-chat form ----------------------------------------------------------------------

class ProfileInvalid(ValueError):
    """What the visitor sent cannot be kept; `field` names the form field to point at."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _profile_check(widget: WidgetSettings, contact: ContactIdentity, name: str, phone: str,
                   consent: bool) -> tuple[str, str]:
    """The name and phone cleaned; a required field may have been given before (the widget
    later asks an offline visitor for a phone alone), and so may the consent to this text."""
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ProfileInvalid("name", _("The name is longer than %(n)s characters.")
                             % {"n": MAX_NAME})
    try:
        phone = phone_normalize(phone)
    except ValidationError as error:
        raise ProfileInvalid("phone", " ".join(error.messages)) from error
    if widget.form_enabled:
        known = {"name": name or contact.display_name, "phone": phone or contact.phone}
        for required in widget.form_required:
            if not known[required]:
                raise ProfileInvalid(required, _("Please fill in this field."))
    consented_before = (contact.consent_at is not None
                        and contact.consent_text == widget.consent_text)
    if widget.consent_text and not (consent or consented_before):
        raise ProfileInvalid("consent", _("Please agree to the processing of your personal "
                                          "data."))
    return name, phone


def webchat_profile_save(*, contact: ContactIdentity, name: str, phone: str, consent: bool,
                         now: datetime) -> ContactIdentity:
    """Keep what the visitor said about themselves on their contact.

    The phone is only a hint: it suggests the clinic's patients with that number, and never
    links one (anyone can type anyone's number). The consent is kept with the text as shown;
    a contact already linked has it copied to the patient's ledger now, others when linked.
    Raises ProfileInvalid."""
    widget = widget_settings(channel=contact.channel)
    name, phone = _profile_check(widget, contact, name, phone, consent)
    changed = []
    if name and name != contact.display_name:
        contact.display_name = name
        changed.append("display_name")
    if phone and phone != contact.phone:
        contact.phone = phone
        changed.append("phone")
    consented = bool(widget.consent_text and consent)
    if consented and (contact.consent_at is None or contact.consent_text != widget.consent_text):
        contact.consent_at, contact.consent_text = now, widget.consent_text
        changed += ["consent_at", "consent_text"]
    with transaction.atomic():
        if changed:
            contact.save(update_fields=changed)
            inbox_changed(contact.clinic_id)
        if "phone" in changed and contact.patient_id is None:
            contact.suggested_patients.set(
                Patient.objects.filter(clinic_id=contact.clinic_id, phone=phone)[:10])
        if contact.patient_id is not None:
            website_consent_record(contact=contact, patient=contact.patient)
    return contact


def website_consent_record(*, contact: ContactIdentity,
                           patient: Patient) -> ConsentEvent | None:
    """Copy the consent the contact gave in the website form to the patient's ledger, once
    per consent given (a re-link or a repeated form does not add another row)."""
    if contact.consent_at is None or not contact.consent_text:
        return None
    if ConsentEvent.objects.filter(patient=patient, topic=ConsentTopic.DATA_PROCESSING,
                                   source=ConsentSource.WEBSITE,
                                   recorded_at=contact.consent_at).exists():
        return None
    return consent_record(patient=patient, topic=ConsentTopic.DATA_PROCESSING, granted=True,
                          source=ConsentSource.WEBSITE, recorded_by=None,
                          now=contact.consent_at,
                          evidence=contact.consent_text[:MAX_CONSENT_TEXT])
