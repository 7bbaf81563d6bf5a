"""Tenancy and roles, proven over every URL the project has."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from clinic import services
from clinic.models import ApiToken, Clinic, ClinicDayException, Patient
from inbox.models import Channel, ContactIdentity, Conversation, Message, QuickReply
from qa.models import Scorecard
from scheduling.models import Appointment, DoctorScheduleException
from tests.clinic.factories import MembershipFactory, PatientFactory
from tests.inbox.factories import (
    TelegramChannelFactory,
    WebchatChannelFactory,
    WhatsAppChannelFactory,
)
from tests.qa.factories import Chat, conversation_for, good_dialogue, scored
from tests.scheduling.factories import (
    AppointmentFactory,
    DoctorFactory,
    DoctorScheduleExceptionFactory,
    ServiceFactory,
)

# Parameters that name no object, so the page may answer (about one's own clinic).
NOT_AN_OBJECT = {"channels:add", "clinic:settings-import-sample", "campaigns:rule-new-kind",
                 "campaigns:preview", "campaigns:audience", "widget-demo-page"}
# URLs anyone may open without signing in (the widget's demo stands for a clinic's website).
PUBLIC = {"login", "healthz", "set_language", "admin:login", "widget-demo", "widget-demo-page"}


@dataclass
class Route:
    name: str
    params: tuple[str, ...]


def _routes(patterns=None, namespace: str = "") -> list[Route]:
    routes = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            regex = entry.pattern.regex
            routes.append(Route(f"{namespace}{entry.name}", tuple(regex.groupindex)))
    return routes


PROJECT_ROUTES = [r for r in _routes() if not r.name.startswith("admin:") and "format" not in
                  r.params]


@dataclass
class OtherClinic:
    clinic: Clinic
    patient: Patient
    day: ClinicDayException
    telegram: Channel
    whatsapp: Channel
    conversation: Conversation
    webchat: Channel
    reply: QuickReply
    token: ApiToken
    appointment: Appointment
    day_off: DoctorScheduleException
    scorecard: Scorecard


# How to point each URL with parameters at an object of the other clinic. A new URL with
# parameters must be added here, so the walk below covers it.
OTHER_CLINIC_KWARGS = {
    "campaigns:rule-new-kind": lambda b: {"kind": "recall"},  # a form for one's own clinic
    "campaigns:preview": lambda b: {"kind": "recall"},
    "campaigns:audience": lambda b: {"kind": "recall"},
    "campaigns:rule": lambda b: {"rule_id": b.clinic.campaign_rules.first().pk},
    "campaigns:switch": lambda b: {"rule_id": b.clinic.campaign_rules.first().pk},
    "campaigns:dry-run": lambda b: {"rule_id": b.clinic.campaign_rules.first().pk},
    "campaigns:results": lambda b: {"rule_id": b.clinic.campaign_rules.first().pk},
    "clinic:settings-day-delete": lambda b: {"exception_id": b.day.pk},
    "api:patient-detail": lambda b: {"pk": b.patient.pk},
    "api:conversation-detail": lambda b: {"pk": b.conversation.pk},
    "api:conversation-messages": lambda b: {"pk": b.conversation.pk},
    "channels:add": lambda b: {"kind": "telegram"},  # a form for one's own clinic
    "clinic:settings-import-sample": lambda b: {"kind": "patients"},  # a sample file
    "inbox:thread": lambda b: {"conversation_id": b.conversation.pk},
    "qa:draft-hints": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:quick-reply-edit": lambda b: {"reply_id": b.reply.pk},
    "inbox:quick-reply-search": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:promise": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:booking-slots": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:booking-book": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:booking-cancel": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:assignment": lambda b: {"conversation_id": b.conversation.pk, "action": "take"},
    "inbox:patient-link": lambda b: {"conversation_id": b.conversation.pk, "action": "unlink"},
    "inbox:patient-consents": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:thread-messages": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:send": lambda b: {"conversation_id": b.conversation.pk},
    "inbox:retry": lambda b: {"conversation_id": b.conversation.pk,
                              "message_id": b.conversation.messages.first().pk},
    "channels:edit": lambda b: {"channel_id": b.telegram.pk},
    "channels:telegram-webhook": lambda b: {"channel_id": b.telegram.pk},
    "hook-telegram": lambda b: {"key": b.telegram.key},
    "hook-whatsapp": lambda b: {"key": b.whatsapp.key},
    "hook-webchat": lambda b: {"key": b.webchat.key, "action": "messages"},
    "widget-demo-page": lambda b: {"page": "prices"},  # the demo website, nobody's data
    "clinic:settings-api-revoke": lambda b: {"token_id": b.token.pk},
    "api:doctor-detail": lambda b: {"pk": b.appointment.doctor_id},
    "api:doctor-schedule": lambda b: {"pk": b.appointment.doctor_id},
    "api:service-detail": lambda b: {"pk": b.appointment.service_id},
    "api:schedule-exception-detail": lambda b: {"pk": b.day_off.pk},
    "api:appointment-detail": lambda b: {"pk": b.appointment.pk},
    "api:appointment-move": lambda b: {"pk": b.appointment.pk},
    "api:appointment-cancel": lambda b: {"pk": b.appointment.pk},
    "api:appointment-confirm": lambda b: {"pk": b.appointment.pk},
    "scheduling:appointment": lambda b: {"appointment_id": b.appointment.pk},
    "scheduling:appointment-move": lambda b: {"appointment_id": b.appointment.pk},
    "scheduling:appointment-cancel": lambda b: {"appointment_id": b.appointment.pk},
    "scheduling:appointment-confirm": lambda b: {"appointment_id": b.appointment.pk},
    "scheduling:appointment-outcome": lambda b: {"appointment_id": b.appointment.pk},
    "qa:scorecard": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:item-override": lambda b: {"scorecard_id": b.scorecard.pk,
                                   "item_id": b.scorecard.items.first().pk},
    "qa:mark-reviewed": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:acknowledge": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:dispute": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:answer": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:team-member": lambda b: {"user_id": b.scorecard.administrator_id},
    "qa:rescore": lambda b: {"scorecard_id": b.scorecard.pk},
    "qa:checklist-revision": lambda b: {"revision_id": b.scorecard.revision_id},
}


@pytest.fixture
def clinic_b(other_clinic, outsider, now) -> OtherClinic:
    patient = PatientFactory(clinic=other_clinic, last_name="Секретова", first_name="Зинаида")
    day = services.clinic_day_exception_set(clinic=other_clinic, changed_by=outsider, now=now,
                                            day=now.date(), intervals=[], note="Закрыто Б")
    telegram = TelegramChannelFactory(clinic=other_clinic)
    contact = ContactIdentity.objects.create(clinic=other_clinic, channel=telegram,
                                             external_id="777", display_name="Секретова З.")
    conversation = Conversation.objects.create(clinic=other_clinic, channel=telegram,
                                               contact=contact, patient=patient)
    Message.objects.create(conversation=conversation, channel=telegram, direction="in",
                           body="Секретный вопрос", status="received", created_at=now)
    token, _secret = services.api_token_create(clinic=other_clinic, name="Секретная МИС",
                                               created_by=outsider, now=now)
    doctor = DoctorFactory(clinic=other_clinic, name="Секретов Доктор")
    service = ServiceFactory(clinic=other_clinic, name="Секретная услуга", doctors=[doctor])
    appointment = AppointmentFactory(doctor=doctor, patient=patient, service=service,
                                     start=now + timedelta(days=1))
    day_off = DoctorScheduleExceptionFactory(doctor=doctor, date=now.date(),
                                             note="Секретный отпуск")
    administrator = MembershipFactory(clinic=other_clinic, role="administrator").user
    chat = Chat(conversation_for(other_clinic, patient), administrator, now)
    good_dialogue(chat)
    return OtherClinic(other_clinic, patient, day, telegram,
                       WhatsAppChannelFactory(clinic=other_clinic), conversation,
                       WebchatChannelFactory(clinic=other_clinic),
                       QuickReply.objects.create(clinic=other_clinic, title="Секретный ответ",
                                                 text="Секретный вопрос"),
                       token, appointment, day_off, scored(chat))


def _url(route: Route, b: OtherClinic) -> str:
    if not route.params:
        return reverse(route.name)
    assert route.name in OTHER_CLINIC_KWARGS, (
        f"{route.name} takes {route.params}: add it to OTHER_CLINIC_KWARGS")
    return reverse(route.name, kwargs=OTHER_CLINIC_KWARGS[route.name](b))


def test_every_url_with_parameters_is_covered_by_the_walk():
    for route in PROJECT_ROUTES:
        if route.params:
            assert route.name in OTHER_CLINIC_KWARGS, route.name


def test_nothing_of_another_clinic_is_readable_or_changeable(client, owner, outsider, clinic_b):
    """An owner of clinic A (the strongest role) walks every URL aimed at clinic B's objects."""
    api = APIClient()
    api.force_authenticate(owner)
    secrets = (clinic_b.clinic.name, clinic_b.patient.last_name, clinic_b.day.note,
               "Секретный вопрос", clinic_b.telegram.key, clinic_b.token.name,
               clinic_b.token.prefix, "Секретов Доктор", "Секретная услуга",
               "Секретный отпуск")
    for route in PROJECT_ROUTES:
        client.force_login(owner)  # the walk includes the logout URL
        api.force_login(owner)
        url = _url(route, clinic_b)
        for response in (
            client.get(url),
            client.post(url, {"name": "Взлом", "clinic": clinic_b.clinic.pk}),
            api.patch(url, {"last_name": "Взлом"}, format="json") if route.params else None,
            api.post(url, {"text": "Взлом"}, format="json") if route.params else None,
            api.get(url, HTTP_X_CLINIC_ID=str(clinic_b.clinic.pk)),
        ):
            if response is None:
                continue
            if route.params and route.name not in NOT_AN_OBJECT:
                assert response.status_code in (401, 403, 404, 405), (url, response.status_code)
            content = (b"".join(response.streaming_content) if response.streaming
                       else response.content)
            body = content.decode(errors="replace")
            for secret in secrets:
                assert secret not in body, (url, secret)
    clinic_b.patient.refresh_from_db()
    clinic_b.clinic.refresh_from_db()
    assert clinic_b.patient.last_name == "Секретова"
    assert clinic_b.clinic.name == "Клиника Б"
    assert ClinicDayException.objects.filter(pk=clinic_b.day.pk).exists()
    assert Message.objects.filter(conversation=clinic_b.conversation).count() == 1
    assert QuickReply.objects.filter(clinic=clinic_b.clinic, title="Секретный ответ").exists()
    assert not clinic_b.clinic.setting_changes.exclude(changed_by=outsider).exists()
    clinic_b.token.refresh_from_db()
    clinic_b.appointment.refresh_from_db()
    assert clinic_b.token.is_active
    assert clinic_b.appointment.status == "booked"
    assert clinic_b.appointment.doctor.name == "Секретов Доктор"
    assert DoctorScheduleException.objects.filter(pk=clinic_b.day_off.pk).exists()


def test_switching_to_a_clinic_one_is_not_a_member_of_is_refused(client, owner, clinic_b):
    client.force_login(owner)
    response = client.post(reverse("clinic-switch"), {"clinic": clinic_b.clinic.pk})
    assert response.status_code == 404
    assert "Клиника Б" not in client.get(reverse("inbox:index")).content.decode()


def test_a_member_of_two_clinics_switches_between_them(client, owner, other_clinic):
    from tests.clinic.factories import MembershipFactory

    MembershipFactory(user=owner, clinic=other_clinic, role="administrator")
    client.force_login(owner)
    client.post(reverse("clinic-switch"), {"clinic": other_clinic.pk, "next": "/inbox/"})
    assert client.get(reverse("clinic:settings")).status_code == 403  # only an administrator there
    assert 'selected>Клиника Б' in client.get(reverse("inbox:index")).content.decode()


@pytest.mark.django_db
def test_every_page_needs_a_signed_in_user(client):
    for route in PROJECT_ROUTES:
        if route.name in PUBLIC or route.params:
            continue
        response = client.get(reverse(route.name))
        assert response.status_code in (302, 401, 403, 405), route.name
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), route.name


def test_a_user_without_a_clinic_sees_an_explanation(client, django_user_model):
    user = django_user_model.objects.create_user("lonely", password="x" * 12)
    client.force_login(user)
    response = client.get(reverse("inbox:index"))
    assert response.status_code == 403
    assert "clinic/no_clinic.html" in [t.name for t in response.templates]


@pytest.mark.parametrize(("persona", "allowed"), [
    ("administrator", {"inbox:index", "scheduling:calendar"}),
    ("manager", {"inbox:index", "scheduling:calendar", "qa:index", "campaigns:index"}),
    ("owner", {"inbox:index", "scheduling:calendar", "qa:index", "campaigns:index",
               "clinic:settings", "clinic:settings-hours", "clinic:settings-standards",
               "clinic:settings-history"}),
])
def test_roles_are_enforced_on_the_server(client, request, persona, allowed):
    client.force_login(request.getfixturevalue(persona))
    pages = {"inbox:index", "scheduling:calendar", "qa:index", "campaigns:index",
             "clinic:settings", "clinic:settings-hours", "clinic:settings-standards",
             "clinic:settings-history"}
    for name in pages:
        status = client.get(reverse(name)).status_code
        assert status == (200 if name in allowed else 403), (persona, name, status)


def test_the_api_is_scoped_to_the_callers_clinic(owner, clinic_b, patient):
    api = APIClient()
    api.force_authenticate(owner)
    names = [p["last_name"] for p in api.get(reverse("api:patient-list")).json()["results"]]
    assert names == [patient.last_name]
    assert api.get(reverse("api:patient-list"),
                   HTTP_X_CLINIC_ID=str(clinic_b.clinic.pk)).status_code == 403


def test_the_api_refuses_strangers(db):
    assert APIClient().get(reverse("api:patient-list")).status_code in (401, 403)


def test_the_api_creates_patients_with_normalised_phones(administrator, clinic):
    api = APIClient()
    api.force_authenticate(administrator)
    response = api.post(reverse("api:patient-list"),
                        {"first_name": "Олег", "phone": "8 (916) 555-44-33"}, format="json")
    assert response.status_code == 201, response.content
    assert Patient.objects.get(clinic=clinic).phone == "+79165554433"
    bad = api.post(reverse("api:patient-list"), {"first_name": "Олег", "phone": "555"},
                   format="json")
    assert bad.status_code == 400 and "phone" in bad.json()["errors"]
