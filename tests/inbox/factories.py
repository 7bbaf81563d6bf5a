import factory

from inbox.models import Channel, ChannelKind
from tests.clinic.factories import ClinicFactory


class TelegramChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.TELEGRAM
    name = "Telegram-бот клиники"
    bot_token = "123456:TEST-token"
    webhook_secret = "s3cret_Token-value"


class WhatsAppChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.WHATSAPP
    name = "WhatsApp клиники"
    phone_number_id = "106540352242922"
    access_token = "EAAtest"
    app_secret = "whatsapp-app-secret"
    verify_token = "verify-me"
    whatsapp_templates = [{"name": "visit_reminder", "language": "ru",
                           "params": ["patient_first_name", "visit_time"]}]


class WebchatChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    clinic = factory.SubFactory(ClinicFactory)
    kind = ChannelKind.WEBCHAT
    name = "Чат на сайте"
    allowed_origins = ["https://ulybka-clinic.ru"]
