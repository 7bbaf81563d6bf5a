import re
from datetime import timedelta

import pytest
from django.urls import reverse

from inbox.models import ContactIdentity, Conversation, Message, ResponseTimer
from inbox.selectors import COUNT_CAPS, PAGE_SIZE
from tests.inbox.factories import TelegramChannelFactory
from tests.workers import queued_tasks


def _conversation(channel, n, when, preview="Здравствуйте"):
    contact = ContactIdentity.objects.create(clinic=channel.clinic, channel=channel,
                                             external_id=str(1000 + n),
                                             display_name=f"Пациент {n}")
    conversation = Conversation.objects.create(
        clinic=channel.clinic, channel=channel, contact=contact, last_message_at=when,
        last_patient_message_at=when, last_message_preview=preview, unread_count=1)
    Message.objects.create(conversation=conversation, channel=channel, direction="in",
                           body=preview, status="received", created_at=when)
    return conversation


@pytest.fixture
def channel(clinic):
    return TelegramChannelFactory(clinic=clinic)


def test_the_list_shows_the_clinics_conversations_newest_first(client, administrator, channel,
                                                               now):
    _conversation(channel, 1, now - timedelta(hours=1), "Старый вопрос")
    _conversation(channel, 2, now, "Новый вопрос")
    client.force_login(administrator)
    body = client.get(reverse("inbox:index")).content.decode()
    assert body.index("Новый вопрос") < body.index("Старый вопрос")


def test_the_list_escapes_what_patients_wrote_and_called_themselves(client, administrator,
                                                                    channel, now):
    conversation = _conversation(channel, 1, now, "<img src=x onerror=alert(1)>")
    ContactIdentity.objects.filter(pk=conversation.contact_id).update(
        display_name="<script>alert('x')</script>")
    client.force_login(administrator)
    body = client.get(reverse("inbox:index")).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_the_list_costs_the_same_queries_for_any_number_of_rows(
        client, administrator, channel, now, django_assert_max_num_queries):
    for n in range(PAGE_SIZE + 5):
        _conversation(channel, n, now - timedelta(minutes=n))
    client.force_login(administrator)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("inbox:index"))
    assert len(response.context["page"].conversations) == PAGE_SIZE
    assert response.context["counts"]["open"] == PAGE_SIZE + 5


def test_keyset_pages_do_not_repeat_or_skip(client, administrator, channel, now):
    for n in range(PAGE_SIZE + 5):
        _conversation(channel, n, now - timedelta(minutes=n))
    client.force_login(administrator)
    first = client.get(reverse("inbox:index")).context["page"]
    second = client.get(reverse("inbox:index"), {"after": first.next_cursor}).context["page"]
    ids = [c.pk for c in first.conversations] + [c.pk for c in second.conversations]
    assert len(ids) == len(set(ids)) == PAGE_SIZE + 5 and not second.next_cursor


def test_search_finds_names_and_message_text(client, administrator, channel, now):
    _conversation(channel, 1, now, "Сколько стоит имплант?")
    _conversation(channel, 2, now, "Хочу на чистку")
    client.force_login(administrator)
    found = client.get(reverse("inbox:index"), {"q": "имплант"}).context["page"]
    assert [c.contact.display_name for c in found.conversations] == ["Пациент 1"]


def test_opening_a_thread_marks_it_read_and_escapes_patient_text(client, administrator,
                                                                 channel, now):
    conversation = _conversation(channel, 1, now, "<img src=x onerror=alert(1)>")
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "<img src=x onerror=alert(1)>" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_a_reply_from_the_composer_is_queued(client, administrator, channel, now,
                                             django_capture_on_commit_callbacks):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("inbox:send", args=[conversation.pk]),
                               {"text": "Добрый день! Когда вам удобно?"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Добрый день! Когда вам удобно?" in response.content.decode()
    assert Message.objects.get(direction="out").status == "queued"
    assert len(queued_tasks(callbacks)) == 1


def test_an_internal_note_is_never_sent(client, administrator, channel, now,
                                        django_capture_on_commit_callbacks):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("inbox:send", args=[conversation.pk]),
                    {"text": "Пациентка просит перезвонить мужу", "note": "1"})
    note = Message.objects.get(kind="note")
    assert note.direction == "out" and not queued_tasks(callbacks)
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "the patient does not see it" in body


def test_a_refused_reply_is_explained_in_the_composer(client, administrator, channel, now):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    response = client.post(reverse("inbox:send", args=[conversation.pk]), {"text": " "},
                           HTTP_HX_REQUEST="true")
    assert 'id="composer-error"' in response.content.decode()
    assert "hx-swap-oob" in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_a_failed_message_can_be_retried(client, administrator, channel, now,
                                         django_capture_on_commit_callbacks):
    conversation = _conversation(channel, 1, now)
    failed = Message.objects.create(conversation=conversation, channel=channel,
                                    direction="out", body="Ответ", status="failed",
                                    error_text="The patient blocked the bot", attempts=1,
                                    created_at=now)
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("inbox:retry", args=[conversation.pk, failed.pk]))
    failed.refresh_from_db()
    assert failed.status == "queued" and failed.attempts == 0 and len(queued_tasks(callbacks)) == 1


def test_a_thread_of_another_clinic_is_404(client, outsider, channel, now):
    conversation = _conversation(channel, 1, now)
    client.force_login(outsider)
    assert client.get(reverse("inbox:thread", args=[conversation.pk])).status_code == 404


def test_the_polled_list_keeps_the_open_thread_highlighted(client, administrator, channel, now):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    response = client.get(reverse("inbox:index"), HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="conversation-list",
                          HTTP_HX_CURRENT_URL=f"http://testserver/inbox/c/{conversation.pk}/")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="conversation-list"')
    assert 'class="conversation selected' in body


def test_the_panel_confirms_a_suggested_patient(client, administrator, channel, now):
    from tests.clinic.factories import PatientFactory

    conversation = _conversation(channel, 1, now)
    mother = PatientFactory(clinic=channel.clinic, first_name="Анна", last_name="Иванова")
    conversation.contact.suggested_patients.add(mother)
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "Иванова Анна" in body
    client.post(reverse("inbox:patient-link", args=[conversation.pk, "confirm"]),
                {"patient": mother.pk})
    conversation.refresh_from_db()
    assert conversation.patient == mother
    client.post(reverse("inbox:patient-link", args=[conversation.pk, "unlink"]))
    conversation.refresh_from_db()
    assert conversation.patient is None


def test_the_panel_cannot_link_a_patient_of_another_clinic(client, administrator, channel,
                                                           other_clinic, now):
    from tests.clinic.factories import PatientFactory

    conversation = _conversation(channel, 1, now)
    stranger = PatientFactory(clinic=other_clinic)
    client.force_login(administrator)
    response = client.post(reverse("inbox:patient-link", args=[conversation.pk, "confirm"]),
                           {"patient": stranger.pk})
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.patient is None


def test_the_panel_creates_a_patient_from_the_contact(client, administrator, channel, now):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    client.post(reverse("inbox:patient-link", args=[conversation.pk, "create"]))
    conversation.refresh_from_db()
    assert conversation.patient.first_name == "Пациент"


def test_quick_replies_are_filled_in_for_the_patient(client, administrator, manager, channel,
                                                     now):
    conversation = _conversation(channel, 1, now)
    client.force_login(manager)
    client.post(reverse("inbox:quick-replies"), {
        "title": "Цена чистки",
        "text": "{patient_first_name}, профессиональная чистка стоит от 4500 до 6500 ₽. "
                "Записать вас? {admin_name}, {clinic_name}"})
    client.force_login(administrator)
    body = client.get(reverse("inbox:quick-reply-search", args=[conversation.pk]),
                      {"q": "чистк"}).content.decode()
    assert "Пациент, профессиональная чистка стоит от 4500 до 6500 ₽" in body
    assert f"{administrator.first_name}, Клиника А" in body


def test_only_managers_keep_quick_replies(client, administrator):
    client.force_login(administrator)
    assert client.get(reverse("inbox:quick-replies")).status_code == 403


def test_check_with_the_doctor_sends_the_clinics_promise(client, administrator, channel, now,
                                                         django_capture_on_commit_callbacks):
    conversation = _conversation(channel, 1, now)
    client.force_login(administrator)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("inbox:promise", args=[conversation.pk]))
    promise = Message.objects.get(kind="promise")
    assert promise.body == "Пациент, уточню у врача и вернусь к вам в течение 15 минут."
    assert promise.status == "queued"
    # Its delivery, and the promise timer's check at its due time.
    assert len(queued_tasks(callbacks)) == 2
    timer = ResponseTimer.objects.get(conversation=conversation, met_at=None)
    assert timer.kind == "promise" and timer.trigger_message == promise


def test_the_administrator_records_consents_with_who_and_how(client, administrator, channel,
                                                             now):
    from clinic.models import ConsentEvent
    from tests.clinic.factories import PatientFactory

    conversation = _conversation(channel, 1, now)
    patient = PatientFactory(clinic=channel.clinic)
    conversation.patient = patient
    conversation.save()
    client.force_login(administrator)
    url = reverse("inbox:patient-consents", args=[conversation.pk])
    client.post(url, {"part": "data_processing", "granted": ["data_processing:"],
                      "source": "form", "evidence": "form 12"})
    client.post(url, {"part": "data_processing", "source": "phone"})
    events = list(ConsentEvent.objects.filter(patient=patient).order_by("id")
                  .values_list("topic", "granted", "source", "evidence", "recorded_by"))
    assert events == [("data_processing", True, "form", "form 12", administrator.pk),
                      ("data_processing", False, "phone", "", administrator.pk)]


def test_flash_messages_are_not_confused_with_the_thread(client, administrator, channel, now):
    conversation = _conversation(channel, 1, now, "Сообщение пациента")
    client.force_login(administrator)
    body = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert '<li class="message' not in body  # no flash message boxes made of the thread
    assert "Сообщение пациента" in body


def _counters_shown(client) -> dict[str, str]:
    body = client.get(reverse("inbox:index")).content.decode()
    return dict(re.findall(r'\?filter=(\w+)"[^>]*>[^<]*<span class="count">([^<]*)<', body))


def test_the_resolved_counter_stops_at_its_cap_and_the_others_stay_exact(
        client, administrator, channel, now, monkeypatch):
    monkeypatch.setitem(COUNT_CAPS, "resolved", 2)
    conversations = [_conversation(channel, n, now - timedelta(minutes=n)) for n in range(3)]
    client.force_login(administrator)
    assert _counters_shown(client) == {"open": "3", "mine": "0", "unassigned": "3",
                                       "waiting": "0", "overdue": "0", "resolved": "0"}
    Conversation.objects.filter(clinic=channel.clinic).update(status="resolved")
    shown = _counters_shown(client)
    assert shown["resolved"] == "2+" and shown["open"] == "0"
    Conversation.objects.filter(pk=conversations[0].pk).update(status="open")
    shown = _counters_shown(client)
    assert shown["resolved"] == "2" and shown["open"] == "1"
