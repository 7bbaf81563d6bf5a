import pytest
from django.urls import reverse

from clinic import clock
from inbox.models import ContactIdentity, Message
from inbox.services.outbound import message_deliver, message_send
from tests.inbox.factories import WebchatChannelFactory

SITE = "https://ulybka-clinic.ru"


@pytest.fixture
def channel(clinic):
    return WebchatChannelFactory(clinic=clinic)


def url(channel, action):
    return reverse("hook-webchat", args=[channel.key, action])


def start(client, channel, **headers):
    return client.post(url(channel, "session"), HTTP_ORIGIN=SITE, **headers)


def say(client, channel, token, text, client_id="c1"):
    return client.post(url(channel, "messages"), {"text": text, "client_id": client_id},
                       content_type="application/json", HTTP_ORIGIN=SITE,
                       HTTP_X_VISITOR_TOKEN=token)


def test_a_visitor_starts_a_session_and_writes(client, channel):
    response = start(client, channel)
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE
    token = response.json()["token"]
    assert len(token) > 40
    sent = say(client, channel, token, "Здравствуйте! Есть запись на завтра?")
    assert sent.status_code == 201 and sent.json()["message"]["from"] == "visitor"
    assert Message.objects.get().conversation.contact.channel == channel
    assert token not in ContactIdentity.objects.get().external_id  # only its hash is stored


def test_a_retried_send_with_the_same_client_id_is_stored_once(client, channel):
    token = start(client, channel).json()["token"]
    say(client, channel, token, "Привет", client_id="abc")
    say(client, channel, token, "Привет", client_id="abc")
    assert Message.objects.count() == 1


def test_a_returning_visitor_keeps_the_token(client, channel):
    token = start(client, channel).json()["token"]
    again = start(client, channel, HTTP_X_VISITOR_TOKEN=token)
    assert again.json() == {"token": token, "returning": True}
    assert ContactIdentity.objects.count() == 1


def test_a_visitor_reads_only_their_own_conversation(client, channel, administrator):
    mine = start(client, channel).json()["token"]
    theirs = start(client, channel).json()["token"]
    say(client, channel, mine, "Мой вопрос")
    say(client, channel, theirs, "Чужой вопрос", client_id="c2")
    response = client.get(url(channel, "messages"), HTTP_ORIGIN=SITE, HTTP_X_VISITOR_TOKEN=mine)
    assert [m["text"] for m in response.json()["messages"]] == ["Мой вопрос"]


def test_the_clinic_reply_arrives_after_the_cursor_and_counts_as_delivered(
        client, channel, administrator):
    token = start(client, channel).json()["token"]
    first = say(client, channel, token, "Сколько стоит чистка?").json()["message"]
    conversation = Message.objects.get().conversation
    reply = message_send(conversation=conversation, author=administrator,
                         text="Здравствуйте! От 4500 ₽. Когда вам удобно?", now=clock.now())
    message_deliver(message_id=reply.pk, now=clock.now())
    response = client.get(url(channel, "messages"), {"after": first["id"]}, HTTP_ORIGIN=SITE,
                          HTTP_X_VISITOR_TOKEN=token)
    data = response.json()
    new = [m for m in data["messages"] if m["id"] > first["id"]]
    assert [m["from"] for m in new] == ["clinic"]
    assert new[0]["author"] == administrator.first_name
    assert data["cursor"] == reply.pk
    reply.refresh_from_db()
    assert reply.status == "delivered"


def test_a_foreign_origin_is_refused_without_cors_headers(client, channel):
    response = client.post(url(channel, "session"), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not ContactIdentity.objects.exists()


def test_the_preflight_names_what_the_widget_may_send(client, channel):
    response = client.options(url(channel, "messages"), HTTP_ORIGIN=SITE)
    assert response.status_code == 204
    assert "X-Visitor-Token" in response["Access-Control-Allow-Headers"]


def test_no_token_or_a_forged_token_reads_nothing(client, channel):
    assert client.get(url(channel, "messages"), HTTP_ORIGIN=SITE).status_code == 401
    assert client.get(url(channel, "messages"), HTTP_ORIGIN=SITE,
                      HTTP_X_VISITOR_TOKEN="v1.forged").status_code == 401


@pytest.mark.parametrize("body", [
    b"not json", b'{"text": ""}', b'{"text": "ok", "client_id": "<x>"}'])
def test_bad_messages_are_400(client, channel, body):
    token = start(client, channel).json()["token"]
    response = client.post(url(channel, "messages"), body, content_type="application/json",
                           HTTP_ORIGIN=SITE, HTTP_X_VISITOR_TOKEN=token)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_a_visitor_sending_too_fast_is_rate_limited(client, channel, settings):
    settings.WEBCHAT_SEND_RATE = "3/m"
    token = start(client, channel).json()["token"]
    codes = [say(client, channel, token, f"Сообщение {i}", client_id=f"c{i}").status_code
             for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert Message.objects.count() == 3


def test_one_address_cannot_open_endless_sessions(client, channel, settings):
    settings.WEBCHAT_SESSION_RATE = "2/h"
    codes = [start(client, channel).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_recent_messages_come_again_so_a_late_commit_below_the_cursor_is_not_missed(
        client, channel):
    token = start(client, channel).json()["token"]
    sent = say(client, channel, token, "Вопрос").json()["message"]
    response = client.get(url(channel, "messages"), {"after": sent["id"] + 5},
                          HTTP_ORIGIN=SITE, HTTP_X_VISITOR_TOKEN=token)
    assert [m["id"] for m in response.json()["messages"]] == [sent["id"]]
    assert response.json()["cursor"] == sent["id"] + 5


@pytest.mark.parametrize("wait", ["nan", "inf", "soon"])
def test_a_wait_that_is_not_a_number_of_seconds_is_400(client, channel, wait):
    token = start(client, channel).json()["token"]
    response = client.get(url(channel, "messages"), {"wait": wait}, HTTP_ORIGIN=SITE,
                          HTTP_X_VISITOR_TOKEN=token)
    assert response.status_code == 400


def test_behind_a_proxy_each_visitor_has_their_own_address_limit(client, channel, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WEBCHAT_SESSION_RATE = "1/h"
    first = start(client, channel, HTTP_X_FORWARDED_FOR="203.0.113.5")
    second = start(client, channel, HTTP_X_FORWARDED_FOR="198.51.100.7")
    again = start(client, channel, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 429)
