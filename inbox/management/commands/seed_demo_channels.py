"""Give the demo clinic a Telegram bot and a WhatsApp number wired to the fake providers, and a
website chat that the demo website (/widget/demo/) of the local server may use."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Clinic
from inbox.models import Channel, ChannelKind

DEMO_TEMPLATES = [
    {"name": "visit_reminder", "language": "ru", "params": ["patient_first_name", "visit_time"]},
    {"name": "reply_after_24h", "language": "ru", "params": ["patient_first_name"]},
]
# The local server's addresses (`make run`): the demo website lives there.
DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]
DEMO_WIDGET = {
    "greeting": "Здравствуйте! Напишите нам — ответим здесь же.",
    "form_enabled": True, "form_fields": ["name", "phone"], "form_required": ["name"],
    "consent_text": "Я согласен на обработку персональных данных в соответствии с политикой "
                    "конфиденциальности клиники.",
    "color": "#0f766e", "position": "right",
    "invites": [{"pattern": "/widget/demo/prices*", "idle_seconds": 20,
                 "text": "Подсказать цену или записать на приём?"}],
}


class Command(BaseCommand):
    help = ("Create the demo clinic's Telegram, WhatsApp and website chat channels "
            "(safe to run twice).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("demo data is only for DEBUG=1 (or --force)")
        clinic = Clinic.objects.filter(name=DEMO_CLINIC).first()
        if clinic is None:
            raise CommandError("run `manage.py seed_demo` first")
        Channel.objects.get_or_create(clinic=clinic, kind=ChannelKind.TELEGRAM, defaults={
            "name": "@ulybka_clinic_bot", "bot_token": "100200300:demo-bot-token"})
        Channel.objects.get_or_create(clinic=clinic, kind=ChannelKind.WHATSAPP, defaults={
            "name": "+7 495 123-45-67", "phone_number_id": "106540352242922",
            "access_token": "demo-access-token", "app_secret": "demo-app-secret",
            "verify_token": "demo-verify-token", "whatsapp_templates": DEMO_TEMPLATES})
        webchat = (Channel.objects.filter(clinic=clinic, kind=ChannelKind.WEBCHAT,
                                          is_active=True).order_by("pk").first()
                   or Channel.objects.create(clinic=clinic, kind=ChannelKind.WEBCHAT,
                                             name="Чат на сайте", allowed_origins=DEMO_ORIGINS,
                                             widget=DEMO_WIDGET))
        missing = [o for o in DEMO_ORIGINS if o not in webchat.allowed_origins]
        if missing:  # a channel from an earlier run, or edited since: the demo site still works
            webchat.allowed_origins = [*webchat.allowed_origins, *missing]
            webchat.save(update_fields=["allowed_origins"])
        for channel in Channel.objects.filter(clinic=clinic):
            self.stdout.write(f"{channel}: webhook /hooks/{channel.kind}/{channel.key}/")
        self.stdout.write("Demo website with the chat: /widget/demo/")
