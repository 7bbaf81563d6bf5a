"""The server side of the website chat widget: its configuration and the clinic's answer time,
the pre-chat form and the consent it carries, the long-poll, files, the demo site, settings."""

import threading
import time
from datetime import datetime
from datetime import time as clock_time
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from clinic import clock
from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Availability, ConsentEvent
from inbox.models import Channel, ContactIdentity, Conversation, Direction, Message
from inbox.services.inbound import contact_patient_link, contact_patient_unlink
from inbox.services.outbound import message_send
from tests.clinic.factories import ClinicFactory, MembershipFactory, PatientFactory
from tests.inbox.factories import WebchatChannelFactory

MOSCOW = ZoneInfo("Europe/Moscow")
SITE = "https://ulybka-clinic.ru"
CONSENT = "Согласен на обработку персональных данных по политике клиники."


@pytest.fixture
def channel(clinic):
    return WebchatChannelFactory(clinic=clinic)


def url(channel, action):
    return reverse("hook-webchat", args=[channel.key, action])


def start(client, channel):
    return client.post(url(channel, "session"), HTTP_ORIGIN=SITE).json()["token"]


def say(client, channel, token, text, **extra):
    return client.post(url(channel, "messages"), {"text": text, "client_id": uuid4().hex,
                                                  **extra},
                       content_type="application/json", HTTP_ORIGIN=SITE,
                       HTTP_X_VISITOR_TOKEN=token)


def read(client, channel, token, **params):
    return client.get(url(channel, "messages"), params, HTTP_ORIGIN=SITE,
                      HTTP_X_VISITOR_TOKEN=token)


def config(client, channel, **params):
    return client.get(url(channel, "config"), params, HTTP_ORIGIN=SITE)


def profile(client, channel, token, **data):
    return client.post(url(channel, "profile"), data, content_type="application/json",
                       HTTP_ORIGIN=SITE, HTTP_X_VISITOR_TOKEN=token)


def online(clinic):
    return MembershipFactory(clinic=clinic, availability=Availability.ONLINE).user


def waiting(channel, n, assignee=None):
    """A conversation of a patient waiting since `n` minutes past the hour."""
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=f"visitor:{n}")
    return Conversation.objects.create(
        clinic=channel.clinic, channel=channel, contact=contact, assignee=assignee,
        last_patient_message_at=datetime(2026, 11, 24, 10, n, tzinfo=MOSCOW))


# --- Configuration and when the clinic answers ----------------------------------------------

def test_the_configuration_carries_the_widget_settings_without_a_token(client, channel):
    channel.widget = {"greeting": "Добрый день!", "form_enabled": True,
                      "form_fields": ["name", "phone"], "form_required": ["phone"],
                      "consent_text": CONSENT, "color": "#0A7D5A", "position": "left",
                      "invites": [{"pattern": "/prices*", "idle_seconds": 30,
                                   "text": "Подсказать цену?"}]}
    channel.save()
    response = config(client, channel)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    data = response.json()
    assert data["greeting"] == "Добрый день!"
    assert data["form"] == {"enabled": True, "fields": ["name", "phone"], "required": ["phone"],
                            "consent_text": CONSENT}
    assert data["invites"] == [{"pattern": "/prices*", "idle_seconds": 30,
                                "text": "Подсказать цену?"}]
    assert data["appearance"] == {"color": "#0A7D5A", "position": "left"}
    assert set(data["status"]) == {"online", "open", "answer_at", "answer_text",
                                   "expected_wait_minutes"}


def test_a_new_channel_greets_in_russian_by_default(client, channel):
    data = config(client, channel).json()
    assert data["greeting"] == "Здравствуйте! Напишите нам — ответим здесь же."
    assert data["form"]["enabled"] is False and data["invites"] == []
    assert data["appearance"] == {"color": "#1f6feb", "position": "right"}


def test_an_open_clinic_with_a_free_administrator_answers_now(client, channel, now):
    online(channel.clinic)
    with time_machine.travel(now, tick=False):
        status = config(client, channel).json()["status"]
    assert status == {"online": True, "open": True, "answer_at": now.isoformat(),
                      "answer_text": "", "expected_wait_minutes": None}


def test_a_closed_clinic_says_when_it_opens(client, channel):
    online(channel.clinic)  # someone is online late, but the clinic is closed
    evening = datetime(2026, 11, 24, 21, 30, tzinfo=MOSCOW)  # Tuesday, hours 09:00-20:00
    with time_machine.travel(evening, tick=False):
        status = config(client, channel).json()["status"]
        russian = config(client, channel, lang="ru").json()["status"]
    assert status["open"] is False
    assert status["answer_at"] == datetime(2026, 11, 25, 9, 0, tzinfo=MOSCOW).isoformat()
    assert status["answer_text"] == "The clinic is closed now. We will answer tomorrow at 09:00."
    assert "завтра в 09:00" in russian["answer_text"]
    assert status["expected_wait_minutes"] is None


def test_on_saturday_evening_the_next_opening_is_monday(client, channel):
    saturday = datetime(2026, 11, 28, 17, 0, tzinfo=MOSCOW)
    with time_machine.travel(saturday, tick=False):
        status = config(client, channel).json()["status"]
    assert status["answer_at"] == datetime(2026, 11, 30, 9, 0, tzinfo=MOSCOW).isoformat()
    assert status["answer_text"] == ("The clinic is closed now. We will answer "
                                     "on 30 November at 09:00.")


def test_evening_duty_counts_as_open(client, channel):
    clinic = channel.clinic
    clinic.evening_duty_start, clinic.evening_duty_end = clock_time(20), clock_time(23)
    clinic.save()
    online(clinic)
    with time_machine.travel(datetime(2026, 11, 24, 21, 30, tzinfo=MOSCOW), tick=False):
        status = config(client, channel).json()["status"]
    assert status["open"] is True and status["answer_text"] == ""


def test_when_everyone_online_is_at_the_cap_the_wait_is_estimated_from_the_queue(
        client, channel, now):
    admin = online(channel.clinic)  # the clinic's cap is 2 live dialogues
    waiting(channel, 1, assignee=admin)
    waiting(channel, 2, assignee=admin)
    waiting(channel, 3)  # one patient ahead in the queue
    with time_machine.travel(now, tick=False):
        status = config(client, channel).json()["status"]
    assert status["online"] is True and status["open"] is True
    assert status["expected_wait_minutes"] == 10  # (1 ahead + 1) × 5 minutes
    assert status["answer_text"] == ("All administrators are busy; we will answer in about "
                                     "10 minutes.")
    assert status["answer_at"] == datetime(2026, 11, 24, 11, 10, tzinfo=MOSCOW).isoformat()


def test_an_open_clinic_with_nobody_online_promises_its_first_reply_standard(
        client, channel, now):
    MembershipFactory(clinic=channel.clinic, availability=Availability.AWAY)
    with time_machine.travel(now, tick=False):
        status = config(client, channel).json()["status"]
    assert status["online"] is False and status["open"] is True
    assert status["answer_text"] == "We will answer within 5 minutes."
    assert status["expected_wait_minutes"] is None


# --- The pre-chat form ----------------------------------------------------------------------

@pytest.fixture
def form_channel(clinic):
    return WebchatChannelFactory(clinic=clinic, widget={
        "form_enabled": True, "form_fields": ["name", "phone"], "form_required": ["name"],
        "consent_text": CONSENT})


def test_the_form_is_kept_on_the_contact_with_the_phone_normalised(client, form_channel, now):
    token = start(client, form_channel)
    with time_machine.travel(now, tick=False):
        response = profile(client, form_channel, token, name="  Мария   Петрова ",
                           phone="8 (916) 555-12-34", consent=True)
    assert response.status_code == 200, response.content
    assert response.json() == {"profile": {"name": "Мария Петрова", "phone": "+79165551234",
                                           "consent": True}}
    contact = ContactIdentity.objects.get()
    assert (contact.display_name, contact.phone) == ("Мария Петрова", "+79165551234")
    assert contact.consent_at == now and contact.consent_text == CONSENT


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "Мария", "phone": "555", "consent": True}, "phone"),
    ({"name": "М" * 101, "consent": True}, "name"),
    ({"phone": "+79165551234", "consent": True}, "name"),  # the name is required
    ({"name": "Мария", "phone": "+79165551234", "consent": False}, "consent"),
    ({"name": "Мария", "phone": "+79165551234"}, "consent"),
])
def test_a_bad_form_is_refused_with_the_field_to_fix(client, form_channel, data, field):
    token = start(client, form_channel)
    response = profile(client, form_channel, token, **data)
    assert response.status_code == 400
    assert response.json()["field"] == field and response.json()["error"]
    contact = ContactIdentity.objects.get()
    assert not contact.display_name and not contact.phone and contact.consent_at is None


def test_a_phone_left_later_keeps_the_name_and_consent_given_before(client, form_channel):
    token = start(client, form_channel)
    profile(client, form_channel, token, name="Мария", consent=True)
    response = profile(client, form_channel, token, phone="+7 916 555-12-34")
    assert response.status_code == 200, response.content
    assert response.json()["profile"] == {"name": "Мария", "phone": "+79165551234",
                                          "consent": True}


def test_the_form_needs_a_visitor_token(client, form_channel):
    response = client.post(url(form_channel, "profile"), {"name": "Мария"},
                           content_type="application/json", HTTP_ORIGIN=SITE)
    assert response.status_code == 401


def test_a_phone_from_the_form_only_suggests_the_patient_and_never_links(
        client, form_channel, clinic):
    patient = PatientFactory(clinic=clinic, phone="+79165551234")
    token = start(client, form_channel)
    profile(client, form_channel, token, name="Мария", phone="+79165551234", consent=True)
    say(client, form_channel, token, "Здравствуйте!")
    contact = ContactIdentity.objects.get()
    assert contact.patient is None and Conversation.objects.get().patient is None
    assert list(contact.suggested_patients.all()) == [patient]
    assert not ConsentEvent.objects.exists()


def test_the_consent_reaches_the_patients_ledger_once_when_the_contact_is_linked(
        client, form_channel, clinic, now):
    patient = PatientFactory(clinic=clinic)
    token = start(client, form_channel)
    with time_machine.travel(now, tick=False):
        profile(client, form_channel, token, name="Мария", consent=True)
    contact = ContactIdentity.objects.get()
    contact_patient_link(contact=contact, patient=patient)
    contact_patient_link(contact=contact, patient=patient)
    contact_patient_unlink(contact=contact)
    contact_patient_link(contact=ContactIdentity.objects.get(), patient=patient)
    event = ConsentEvent.objects.get()
    assert (event.patient, event.topic, event.source, event.granted) == (
        patient, "data_processing", "website", True)
    assert event.evidence == CONSENT and event.recorded_at == now and event.channel == ""


def test_a_contact_already_linked_records_the_consent_at_once_and_only_once(
        client, form_channel, clinic):
    patient = PatientFactory(clinic=clinic)
    token = start(client, form_channel)
    contact_patient_link(contact=ContactIdentity.objects.get(), patient=patient)
    profile(client, form_channel, token, name="Мария", consent=True)
    profile(client, form_channel, token, name="Мария Петрова", consent=True)
    assert ConsentEvent.objects.filter(patient=patient).count() == 1


def test_a_channel_without_a_consent_text_records_no_consent(client, channel, clinic):
    token = start(client, channel)
    assert profile(client, channel, token, name="Мария", consent=True).status_code == 200
    contact = ContactIdentity.objects.get()
    contact_patient_link(contact=contact, patient=PatientFactory(clinic=clinic))
    assert contact.consent_at is None and not ConsentEvent.objects.exists()


# --- Whose conversation --------------------------------------------------------------------

def test_a_second_visitor_cannot_read_or_write_the_first_ones_conversation(client, channel):
    first = start(client, channel)
    say(client, channel, first, "Мой секретный вопрос")
    mine = Conversation.objects.get()
    other = start(client, channel)
    for after in (0, -1_000_000, mine.messages.get().pk - 1):
        response = read(client, channel, other, after=after)
        assert response.status_code == 200 and response.json()["messages"] == []
    sent = say(client, channel, other, "Чужое", conversation=mine.pk, conversation_id=mine.pk,
               contact=mine.contact_id, id=mine.pk)
    assert sent.status_code == 201
    assert list(mine.messages.values_list("body", flat=True)) == ["Мой секретный вопрос"]
    theirs = Conversation.objects.exclude(pk=mine.pk).get()
    assert theirs.contact.external_id != mine.contact.external_id
    assert [m["text"] for m in read(client, channel, first).json()["messages"]] == [
        "Мой секретный вопрос"]


@pytest.mark.parametrize("action", ["session", "config", "profile", "messages", "file"])
def test_a_foreign_origin_is_refused_on_every_action(client, channel, action):
    response = client.get(url(channel, action), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_the_sites_own_origin_is_allowed_for_the_demo_page(client, channel):
    response = client.get(url(channel, "config"), HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://testserver"


# --- The long-poll --------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_long_poll_returns_a_reply_written_while_it_waits(client, clinic, administrator):
    channel = WebchatChannelFactory(clinic=clinic)
    token = start(client, channel)
    question = say(client, channel, token, "Есть запись на завтра?").json()["message"]
    conversation = Conversation.objects.get()

    def reply() -> None:
        try:
            time.sleep(0.5)
            message_send(conversation=Conversation.objects.get(pk=conversation.pk),
                         author=administrator, text="Да, на 10:00. Записать вас?",
                         now=clock.now())
        finally:
            connection.close()

    writer = threading.Thread(target=reply)
    writer.start()
    response = read(client, channel, token, after=question["id"], wait=10)
    writer.join()
    new = [m for m in response.json()["messages"] if m["id"] > question["id"]]
    assert [(m["from"], m["text"]) for m in new] == [("clinic", "Да, на 10:00. Записать вас?")]


def test_a_long_poll_with_nothing_new_ends_at_its_deadline_with_nothing(client, channel, settings):
    settings.WEBCHAT_LONGPOLL_SECONDS = 0.3
    token = start(client, channel)
    response = read(client, channel, token, wait=5)
    assert response.status_code == 200 and response.json() == {"messages": [], "cursor": 0}


# --- Files from the clinic -------------------------------------------------------------------

@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def picture_for(conversation, name="map.png"):
    path = default_storage.save(f"outbox/{conversation.clinic_id}/{name}",
                                ContentFile(b"\x89PNG picture"))
    return Message.objects.create(
        conversation=conversation, channel=conversation.channel, direction=Direction.OUT,
        kind="image", body="Как нас найти", status="sent", created_at=clock.now(),
        attachments=[{"kind": "image", "file": path, "mime": "image/png", "name": name,
                      "size": 12}])


def test_a_picture_from_the_clinic_comes_with_a_link_only_its_visitor_can_use(
        client, channel, media):
    first, second = start(client, channel), start(client, channel)
    say(client, channel, first, "Как вас найти?")
    picture_for(Conversation.objects.get())
    message = read(client, channel, first).json()["messages"][-1]
    attachment = message["attachments"][0]
    assert attachment["kind"] == "image" and attachment["name"] == "map.png"
    assert attachment["url"].startswith(f"http://testserver{url(channel, 'file')}?f=")

    mine = client.get(attachment["url"], HTTP_X_VISITOR_TOKEN=first)
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == b"\x89PNG picture"
    assert mine["Content-Type"] == "image/png"
    assert client.get(attachment["url"]).status_code == 200  # as <img src>, without headers

    assert client.get(attachment["url"], HTTP_X_VISITOR_TOKEN=second).status_code == 403
    tampered = attachment["url"][:-3] + ("xyz" if not attachment["url"].endswith("xyz") else "abc")
    assert client.get(tampered).status_code == 403
    assert read(client, channel, second).json()["messages"] == []


def test_a_file_link_stops_working_when_it_expires(client, channel, media, settings):
    token = start(client, channel)
    say(client, channel, token, "Пришлите схему")
    picture_for(Conversation.objects.get())
    link = read(client, channel, token).json()["messages"][-1]["attachments"][0]["url"]
    settings.WEBCHAT_FILE_URL_SECONDS = -1
    assert client.get(link).status_code == 403


def test_a_document_is_downloaded_not_shown(client, channel, media):
    token = start(client, channel)
    say(client, channel, token, "Пришлите договор")
    conversation = Conversation.objects.get()
    message = picture_for(conversation, name="contract.html")
    message.attachments[0]["mime"] = "text/html"
    message.save(update_fields=["attachments"])
    link = read(client, channel, token).json()["messages"][-1]["attachments"][0]["url"]
    response = client.get(link)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


# --- The demo website ------------------------------------------------------------------------

def test_the_demo_website_embeds_the_demo_clinics_widget_without_sign_in(client, db):
    demo_channel = WebchatChannelFactory(clinic=ClinicFactory(name=DEMO_CLINIC))
    WebchatChannelFactory()  # another clinic's chat is not the demo's
    response = client.get(reverse("widget-demo"))
    assert response.status_code == 200
    page = response.content.decode()
    assert (f'<script async src="http://testserver/static/widget.js" '
            f'data-channel="{demo_channel.key}"></script>') in page
    assert "Стоматология «Улыбка»" in page and reverse("widget-demo-page", args=["prices"]) in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy


def test_the_demo_website_shows_any_channel_asked_for_and_keeps_it_on_every_page(client, channel):
    response = client.get(reverse("widget-demo-page", args=["prices"]), {"channel": channel.key})
    page = response.content.decode()
    assert response.status_code == 200 and f'data-channel="{channel.key}"' in page
    assert f"{reverse('widget-demo-page', args=['doctors'])}?channel={channel.key}" in page
    assert client.get(reverse("widget-demo-page", args=["nowhere"])).status_code == 404


def test_the_demo_seeding_lets_the_local_demo_website_use_the_chat(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--patients", "3", "--force")
    call_command("seed_demo_channels")
    call_command("seed_demo_channels")
    webchat = Channel.objects.get(clinic__name=DEMO_CLINIC, kind="webchat")
    assert {"http://127.0.0.1:8000", "http://localhost:8000"} <= set(webchat.allowed_origins)
    assert webchat.widget["form_enabled"] is True


# --- The owner's settings ----------------------------------------------------------------------

WIDGET_FORM = {"name": "Чат на сайте", "allowed_origins": SITE, "is_active": "on",
               "widget_greeting": "Добрый день!", "widget_form_enabled": "on",
               "widget_form_fields": ["name", "phone"], "widget_form_required": ["phone"],
               "widget_consent_text": CONSENT, "widget_color": "#0A7D5A",
               "widget_position": "left",
               "widget_invites": "/prices* | 30 | Подсказать цену?\n* | 120 | Есть вопрос?"}


def test_the_owner_sets_up_the_widget(client, owner, channel):
    client.force_login(owner)
    response = client.post(reverse("channels:edit", args=[channel.pk]), WIDGET_FORM)
    assert response.status_code == 302, response.context["form"].errors
    channel.refresh_from_db()
    assert channel.widget == {
        "greeting": "Добрый день!", "form_enabled": True, "form_fields": ["name", "phone"],
        "form_required": ["phone"], "consent_text": CONSENT, "color": "#0a7d5a",
        "position": "left",
        "invites": [{"pattern": "/prices*", "idle_seconds": 30, "text": "Подсказать цену?"},
                    {"pattern": "*", "idle_seconds": 120, "text": "Есть вопрос?"}]}
    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert "/prices* | 30 | Подсказать цену?" in page


@pytest.mark.parametrize(("changes", "field"), [
    ({"widget_color": "green"}, "widget_color"),
    ({"widget_color": "#12345"}, "widget_color"),
    ({"widget_invites": "/prices* | 3 | Слишком рано"}, "widget_invites"),
    ({"widget_invites": "/prices* | soon | Когда?"}, "widget_invites"),
    ({"widget_invites": "prices | 30 | Без косой черты"}, "widget_invites"),
    ({"widget_invites": "/prices* | 30"}, "widget_invites"),
    ({"widget_form_fields": ["name"], "widget_form_required": ["phone"]},
     "widget_form_required"),
])
def test_bad_widget_settings_are_refused(client, owner, channel, changes, field):
    client.force_login(owner)
    response = client.post(reverse("channels:edit", args=[channel.pk]),
                           {**WIDGET_FORM, **changes})
    assert response.status_code == 200 and field in response.context["form"].errors
    channel.refresh_from_db()
    assert channel.widget["greeting"] != "Добрый день!"


def test_the_channel_page_gives_the_embed_snippet_and_the_demo_link(client, owner, channel):
    client.force_login(owner)
    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    snippet = (f'&lt;script async src=&quot;http://testserver/static/widget.js&quot; '
               f'data-channel=&quot;{channel.key}&quot;&gt;&lt;/script&gt;')
    assert snippet in page
    assert f'{reverse("widget-demo")}?channel={channel.key}' in page


def test_only_the_owner_sees_the_widget_settings(client, manager, channel):
    client.force_login(manager)
    assert client.get(reverse("channels:edit", args=[channel.pk])).status_code == 403


def test_other_channels_have_no_widget_settings(client, owner, clinic):
    client.force_login(owner)
    page = client.get(reverse("channels:add", args=["telegram"])).content.decode()
    assert "widget_greeting" not in page and "widget.js" not in page

