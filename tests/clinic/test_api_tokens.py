"""Clinic API tokens: made and revoked by the owner, stored as a hash, acting in one clinic."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic import services
from clinic.models import ApiToken
from inbox.models import ContactIdentity, Conversation, Message
from tests.clinic.factories import PatientFactory
from tests.inbox.factories import TelegramChannelFactory


def bearer(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


@pytest.fixture
def secret(clinic, owner, now) -> str:
    return services.api_token_create(clinic=clinic, name="МИС", created_by=owner, now=now)[1]


def test_an_owner_makes_a_token_and_sees_its_secret_only_once(client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("clinic:settings-api"), {"name": "МИС"})
    assert response.status_code == 200
    token = ApiToken.objects.get(clinic=clinic)
    secret = response.context["secret"]
    assert secret.startswith("cit_") and secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert (token.name, token.created_by) == ("МИС", owner)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    listing = client.get(reverse("clinic:settings-api")).content.decode()
    assert "МИС" in listing and token.prefix in listing and secret not in listing


def test_a_token_reads_its_clinic_and_notes_when_it_was_last_used(secret, clinic, patient, now):
    with time_machine.travel(now, tick=False):
        response = bearer(secret).get(reverse("api:patient-list"))
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["results"]] == [patient.pk]
    assert ApiToken.objects.get().last_used_at == now
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        bearer(secret).get(reverse("api:patient-list"))
    assert ApiToken.objects.get().last_used_at == now  # not a write per request
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        bearer(secret).get(reverse("api:patient-list"))
    assert ApiToken.objects.get().last_used_at == now + timedelta(minutes=5)


def test_a_revoked_token_is_refused_with_401(client, owner, secret):
    client.force_login(owner)
    token = ApiToken.objects.get()
    response = client.post(reverse("clinic:settings-api-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == owner and not token.is_active
    refused = bearer(secret).get(reverse("api:patient-list"))
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused_with_401(db):
    for header in ("Bearer cit_nonsense", "Bearer", "Bearer a b"):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=header)
        assert api.get(reverse("api:patient-list")).status_code == 401, header


@pytest.mark.parametrize("persona", ["administrator", "manager"])
def test_only_the_owner_manages_tokens(client, request, persona, secret):
    client.force_login(request.getfixturevalue(persona))
    token = ApiToken.objects.get()
    assert client.get(reverse("clinic:settings-api")).status_code == 403
    assert client.post(reverse("clinic:settings-api"), {"name": "Чужой"}).status_code == 403
    revoke = client.post(reverse("clinic:settings-api-revoke", args=[token.pk]))
    assert revoke.status_code == 403
    token.refresh_from_db()
    assert token.is_active and ApiToken.objects.count() == 1


def test_a_token_acts_in_its_own_clinic_only(secret, other_clinic):
    PatientFactory(clinic=other_clinic, last_name="Чужая")
    api = bearer(secret)
    body = api.get(reverse("api:patient-list")).content.decode()
    assert "Чужая" not in body
    elsewhere = api.get(reverse("api:patient-list"), HTTP_X_CLINIC_ID=str(other_clinic.pk))
    assert elsewhere.status_code == 403


def test_a_token_cannot_write_to_a_patient(secret, clinic, patient):
    channel = TelegramChannelFactory(clinic=clinic)
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1",
                                             display_name="Мария")
    conversation = Conversation.objects.create(clinic=clinic, channel=channel, contact=contact,
                                               patient=patient)
    url = reverse("api:conversation-messages", args=[conversation.pk])
    assert bearer(secret).get(url).status_code == 200
    refused = bearer(secret).post(url, {"text": "Здравствуйте!"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert not Message.objects.exists()


def test_a_persons_session_and_own_drf_token_keep_working(administrator, patient):
    key = Token.objects.create(user=administrator).key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api:patient-list")).status_code == 200
    session = APIClient()
    session.force_login(administrator)
    assert session.get(reverse("api:patient-list")).status_code == 200


def test_the_command_prints_a_working_token(clinic, patient):
    out = StringIO()
    call_command("api_token_create", "--clinic", str(clinic.pk), "--name", "CI", stdout=out)
    secret = out.getvalue().strip()
    assert ApiToken.objects.get().name == "CI"
    assert bearer(secret).get(reverse("api:patient-list")).status_code == 200
