"""Post realistic, correctly signed patient webhooks into a running Clinic Inbox.

    python manage.py simulate_patients --url http://127.0.0.1:8000 --rate 0.2 --count 50

It reads the demo clinic's channels (or --clinic) from the database for their keys and secrets,
so it must run with the same DATABASE_URL as the server.
"""

import hashlib
import hmac
import itertools
import json
import random
import time
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError

from clinic.management.commands.seed_demo import DEMO_CLINIC
from inbox.models import Channel, ChannelKind

OPENERS = (
    "Здравствуйте! Сколько стоит профессиональная чистка зубов?",
    "Добрый день, хочу записаться к терапевту на этой неделе",
    "Подскажите, у вас есть детский стоматолог? Сыну 6 лет",
    "Болит зуб со вчерашнего вечера, можно сегодня попасть?",
    "Сколько стоит имплант под ключ? Есть рассрочка?",
    "Добрый вечер! Какие у вас цены на отбеливание?",
    "Вы работаете в субботу? Хочу прийти на консультацию",
    "У меня направление от ортодонта, нужен снимок ОПТГ",
    "Можно перенести мою запись с четверга на пятницу?",
    "Здравствуйте, я вчера ждала приёма 40 минут, хотя была записана. Это нормально?",
)
FOLLOW_UPS = (
    "А скидки пенсионерам есть?",
    "Почему так дорого? В соседней клинике в два раза дешевле",
    "Лучше после 18:00, я работаю",
    "Хорошо, спасибо!",
    "А к какому врачу лучше?",
    "Спасибо, до свидания!",
    "<b>Проверка</b> <script>alert('xss')</script>",
)
NAMES = (("Мария", "Иванова"), ("Олег", "Смирнов"), ("Анна", "Кузнецова"), ("Игорь", "Попов"),
         ("Елена", "Соколова"), ("Дмитрий", "Лебедев"), ("Ольга", "Новикова"),
         ("Сергей", "Морозов"))


class Command(BaseCommand):
    help = "Post realistic signed Telegram / WhatsApp webhooks into a running instance."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--rate", type=float, default=0.2, help="messages per second")
        parser.add_argument("--count", type=int, default=0, help="stop after N (0 = forever)")
        parser.add_argument("--clinic", default=DEMO_CLINIC)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        channels = {c.kind: c for c in Channel.objects.filter(clinic__name=options["clinic"],
                                                              is_active=True)}
        if not channels:
            raise CommandError(f"no channels for {options['clinic']!r}: "
                               "run `manage.py seed_demo_channels`")
        if options["rate"] <= 0:
            self.stdout.write("simulation off (--rate 0)")
            while True:  # stay up: process managers stop everything when one process exits
                time.sleep(3600)
        rng = random.Random(options["seed"])
        base = options["url"].rstrip("/")
        counter = itertools.count(int(time.time()))
        patients = [self._patient(rng, i) for i in range(12)]
        sent = 0
        with httpx.Client(timeout=10) as client:
            while not options["count"] or sent < options["count"]:
                patient = rng.choice(patients)
                channel = channels.get(patient["kind"]) or next(iter(channels.values()))
                text = rng.choice(FOLLOW_UPS if patient["spoken"] else OPENERS)
                patient["spoken"] = True
                url, body, headers = self._webhook(channel, patient, text, next(counter), rng)
                self._post(client, f"{base}{url}", body, headers)
                sent += 1
                time.sleep(rng.expovariate(options["rate"]))

    def _patient(self, rng: random.Random, index: int) -> dict[str, Any]:
        first, last = NAMES[index % len(NAMES)]
        return {"kind": rng.choice([ChannelKind.TELEGRAM, ChannelKind.WHATSAPP]),
                "first": first, "last": last, "chat_id": 5_000_000_000 + index * 7919,
                "wa_id": f"7916{rng.randrange(10**7):07d}", "spoken": False}

    def _webhook(self, channel: Channel, patient: dict[str, Any], text: str, n: int,
                 rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
        if channel.kind == ChannelKind.TELEGRAM:
            user = {"id": patient["chat_id"], "is_bot": False, "first_name": patient["first"],
                    "last_name": patient["last"], "language_code": "ru"}
            message: dict[str, Any] = {
                "message_id": n, "from": user, "date": int(time.time()),
                "chat": {"id": patient["chat_id"], "first_name": patient["first"],
                         "type": "private"}}
            if rng.random() < 0.1:
                message["photo"] = [{"file_id": f"demo-photo-{n}", "file_unique_id": f"u{n}",
                                     "file_size": 54000, "width": 1280, "height": 960}]
                message["caption"] = "Вот фото, посмотрите пожалуйста"
            else:
                message["text"] = text
            body = json.dumps({"update_id": n, "message": message}).encode()
            return (f"/hooks/telegram/{channel.key}/", body,
                    {"X-Telegram-Bot-Api-Secret-Token": channel.webhook_secret})
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "74951234567",
                         "phone_number_id": channel.phone_number_id},
            "contacts": [{"profile": {"name": patient["first"]}, "wa_id": patient["wa_id"]}],
            "messages": [{"from": patient["wa_id"], "id": f"wamid.SIM{n}",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}],
        }
        body = json.dumps({"object": "whatsapp_business_account", "entry": [
            {"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()
        signature = hmac.new(channel.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return (f"/hooks/whatsapp/{channel.key}/", body,
                {"X-Hub-Signature-256": f"sha256={signature}"})

    def _post(self, client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> None:
        for attempt in range(30):
            try:
                response = client.post(url, content=body,
                                       headers={**headers, "Content-Type": "application/json"})
            except httpx.TransportError:
                time.sleep(min(1 + attempt, 5))  # the server is still starting
                continue
            self.stdout.write(f"{response.status_code} {url.split('/hooks/')[1][:8]}… "
                              f"{response.text[:80]}")
            return
        self.stderr.write(f"gave up posting to {url}")
