from django.urls import reverse

from clinic.models import ClinicSettingChange
from inbox.models import Channel
from tests.inbox.factories import TelegramChannelFactory, WhatsAppChannelFactory


def test_the_owner_adds_a_telegram_bot_and_sees_its_webhook_address(client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("channels:add", args=["telegram"]),
                           {"name": "@clinic_bot", "bot_token": "123456:ABC-secret-token",
                            "is_active": "on"})
    assert response.status_code == 302
    channel = Channel.objects.get(clinic=clinic)
    assert channel.bot_token == "123456:ABC-secret-token" and channel.webhook_secret
    page = client.get(reverse("channels:list")).content.decode()
    assert f"/hooks/telegram/{channel.key}/" in page


def test_saved_secrets_are_never_rendered_back(client, owner, clinic):
    channel = WhatsAppChannelFactory(clinic=clinic, access_token="EAA-very-secret-1234")
    client.force_login(owner)
    page = client.get(reverse("channels:edit", args=[channel.pk])).content.decode()
    assert "EAA-very-secret-1234" not in page and "whatsapp-app-secret" not in page
    assert "••••1234" in page


def test_an_empty_secret_keeps_the_saved_one_and_changes_are_versioned_masked(
        client, owner, clinic):
    channel = WhatsAppChannelFactory(clinic=clinic)
    client.force_login(owner)
    response = client.post(reverse("channels:edit", args=[channel.pk]), {
        "name": "WhatsApp регистратуры", "phone_number_id": channel.phone_number_id,
        "access_token": "", "app_secret": "new-app-secret-9999", "verify_token": "",
        "whatsapp_templates": "[]", "is_active": "on"})
    assert response.status_code == 302, response.context["form"].errors
    channel.refresh_from_db()
    assert channel.access_token == "EAAtest" and channel.app_secret == "new-app-secret-9999"
    change = ClinicSettingChange.objects.get(field=f"channel:{channel.pk}:app_secret")
    assert change.new_value == "••••9999" and "secret" not in str(change.old_value)


def test_bad_origins_and_templates_are_refused(client, owner, clinic):
    client.force_login(owner)
    response = client.post(reverse("channels:add", args=["webchat"]),
                           {"name": "Сайт", "allowed_origins": "clinic.ru/page"})
    assert response.status_code == 200 and "allowed_origins" in response.context["form"].errors
    assert not Channel.objects.exists()


def test_connecting_the_bot_sets_the_webhook_with_our_secret(fake, client, owner, clinic):
    channel = TelegramChannelFactory(clinic=clinic)
    client.force_login(owner)
    client.post(reverse("channels:telegram-webhook", args=[channel.pk]))
    call = next(r for r in fake.requests if r.api_method == "setWebhook")
    assert call.json["secret_token"] == channel.webhook_secret
    assert call.json["url"].endswith(f"/hooks/telegram/{channel.key}/")
    assert "callback_query" in call.json["allowed_updates"]


def test_only_the_owner_configures_channels(client, manager):
    client.force_login(manager)
    assert client.get(reverse("channels:list")).status_code == 403
