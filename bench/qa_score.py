"""Quality-scoring benchmark: the checklist engine on 1,000 generated dialogues, in one process.

What it measures
    1. Dialogues per second: --dialogues generated Russian dialogues of 10–40 messages (patient,
       administrator, automatic messages, notes, promises; prices, emoji, names in several cases,
       misspellings and made-up surnames so the word caches keep missing) scored against the
       default checklist 1.2. Timed from a cold start (loading the dictionaries included), then
       again on as many new dialogues in the same, now warm, process (a worker's steady state).
    2. Peak memory of the process (ru_maxrss), dictionaries included.
    3. The draft-hint check the composer calls while the administrator types: p50/p95/max over
       --drafts drafts (warm process, as in a running web worker), first in the engine alone,
       then through the real view (POST /quality/hints/<conversation>/ with Django's test
       client on a scratch SQLite database: access check, the clinic's rules and the dialogue's
       messages read from the database, the engine, the rendered fragment).

How it runs
    The scoring runs in plain Python in this process, on one core, with no database; the view
    is then measured on a SQLite database in a temporary folder (removed at the end). Prints
    figures and asserts nothing about timing.

Usage
    .venv/bin/python bench/qa_score.py [--dialogues 1000] [--drafts 1000] [--seed 1]

Output
    One figure a line. Targets (issue 8): >= 300 dialogues/s, <= 300 MB peak, hint p95 <= 30 ms.
"""

import argparse
import random
import resource
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch_db import percentile  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")
NAMES = ["Анна", "Мария", "Ольга", "Ирина", "Светлана", "Дмитрий", "Сергей", "Алексей", "Елена",
         "Наталья", "Татьяна", "Юлия", "Павел", "Михаил", "Екатерина", "Виктория"]
PATRONYMICS = ["Сергеевна", "Ивановна", "Петрович", "Алексеевич", "Викторовна", "Олегович"]
SURNAME_ROOTS = ["Гвозд", "Лебед", "Крут", "Михал", "Брон", "Зареч", "Остр", "Белоус", "Ветл"]
PATIENT = [
    "Здравствуйте! Сколько стоит профессиональная чистка зубов?",
    "Добрый день, хочу записаться на консультацию к ортодонту",
    "У меня болит зуб уже третий день, можно сегодня попасть?",
    "Сколько стоит имплантация под ключ?",
    "А есть скидки для пенсионеров?",
    "Можно оплатить картой?",
    "Спасибо!",
    "Хорошо, жду",
    "А можно на субботу утром?",
    "Почему так долго отвечаете? Жду уже полчаса",
    "Мне нужна справка для налогового вычета",
    "Врач сказал сделать КТ перед имплантацией, когда можно прийти?",
    "Выпала пломба, которую ставили у вас месяц назад",
    "Меня зовут {name}",
    "Ок, до свидания",
]
ADMIN = [
    "{name}, здравствуйте! Меня зовут Ольга, я администратор клиники «Улыбка».",
    "Профессиональная гигиена стоит 5 500 ₽, в неё входит ультразвук и Air Flow. "
    "Записать вас на удобное время?",
    "Консультация ортодонта — 1 500 ₽, врач осмотрит и составит план лечения. "
    "Подскажите, что вас беспокоит?",
    "Имплантация под ключ стоит от 45 000 до 70 000 ₽ в зависимости от системы импланта. "
    "Хотите записаться на бесплатную консультацию к доктору {surname}у?",
    "{name}, понимаю, как это неприятно, приносим извинения. Давайте я запишу вас сегодня "
    "к доктору {surname}у на 18:00?",
    "5000 руб.",
    "Есть окно в среду в 17:00 или в четверг в 10:30. Как вам удобнее? 😊",
    "Записала вас на среду в 17:00. Ждём вас!",
    "Извените, уточню у врача",
    "Да.",
    "Стоимость ортопантомограммы 1200 рублей, КТ одной челюсти 3500 рублей. Сделать снимок перед "
    "приёмом?",
    "Подскажите, пожалуйста, как давно беспокоит зуб и есть ли отёк?",
    "Для справки нужен паспорт и ИНН. Подготовить её к пятнице?",
]
NOTES = ["Пациентка просила перезвонить после 18", "Уточнить у доктора {surname}а про снимок"]
AUTO = ["Спасибо за сообщение! Администратор ответит в течение 5 минут.",
        "Сейчас клиника закрыта, мы ответим утром с 9:00."]
PROMISE = "{name}, уточню у врача и вернусь к вам в течение 15 минут."
LETTERS = "абвгдежзийклмнопрстуфхцчшщыэюя"


def typo(text: str, rng: random.Random) -> str:
    """Now and then swap a letter in a long word, so that new words keep appearing."""
    words = text.split(" ")
    for k, w in enumerate(words):
        if len(w) > 6 and rng.random() < 0.05:
            i = rng.randrange(1, len(w) - 1)
            words[k] = w[:i] + rng.choice(LETTERS) + w[i + 1:]
    return " ".join(words)


def dialogue(n: int, rng: random.Random) -> dict:
    name = rng.choice(NAMES)
    surname = rng.choice(SURNAME_ROOTS) + rng.choice(["ецк", "ов", "ин", "ск"]) + str(n % 7)
    surname = "".join(c for c in surname if not c.isdigit()) + LETTERS[n % 29]
    at = datetime(2026, 3, 2, 9, 0, tzinfo=TZ) + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
    messages = []
    for k in range(rng.randint(10, 40)):
        roll = rng.random()
        if k == 0 or roll < 0.4:
            author, kind, text = "patient", "text", rng.choice(PATIENT)
        elif roll < 0.85:
            author, kind, text = "admin", "text", rng.choice(ADMIN)
        elif roll < 0.9:
            author, kind, text = "admin", "promise", PROMISE
        elif roll < 0.95:
            author, kind, text = "admin", "note", rng.choice(NOTES)
        else:
            author, kind, text = "auto", "text", rng.choice(AUTO)
        text = typo(text.format(name=name, surname=surname), rng)
        if rng.random() < 0.1:
            text += " " + rng.choice(["😊", "👍", "🙏😊", "❤️👍😀"])
        at += timedelta(seconds=rng.randrange(20, 900))
        messages.append({"from": author, "at": at.isoformat(), "text": text, "kind": kind})
    return {"id": n, "clinic": {"dictionary": [surname, "Улыбка"]},
            "patient": {"first_name": name if rng.random() < 0.8 else None,
                        "patronymic": rng.choice(PATRONYMICS), "last_name": None},
            "admin": {"name": "Ольга"}, "messages": messages,
            "outcome": {"booked": rng.random() < 0.5, "next_step": None}}


def drafts(count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        text = " ".join(rng.sample(ADMIN, rng.randint(1, 3))).format(name="Анна", surname="Гвозд")
        out.append(typo(text, rng))
    return out


def server_hints(texts: list[str]) -> list[float]:
    """Milliseconds per POST to the composer's hint view, on a scratch SQLite database."""
    import tempfile

    from bench.scratch_db import django_on

    folder = tempfile.mkdtemp(prefix="qa-bench-")
    django_on(f"sqlite:///{folder}/db.sqlite3", folder)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from clinic.models import Clinic, Membership, Patient, Role
    from inbox.models import Channel, ContactIdentity, Conversation, Direction, Message
    from scheduling.models import Doctor, Service

    clinic = Clinic.objects.create(name="Улыбка")
    user = get_user_model().objects.create_user("olga", first_name="Ольга")
    Membership.objects.create(clinic=clinic, user=user, role=Role.ADMINISTRATOR)
    for k in range(10):
        Doctor.objects.create(clinic=clinic, name=f"Гвоздецкий{k} Владимир Петрович")
        Service.objects.create(clinic=clinic, name=f"Профессиональная гигиена {k}",
                               duration_minutes=60, price_min=5000, price_max=5000)
    patient = Patient.objects.create(clinic=clinic, first_name="Анна", last_name="Петрова")
    channel = Channel.objects.create(clinic=clinic, kind="telegram", name="Telegram")
    contact = ContactIdentity.objects.create(clinic=clinic, channel=channel, external_id="1",
                                             patient=patient)
    conversation = Conversation.objects.create(clinic=clinic, channel=channel, contact=contact,
                                               patient=patient)
    now = datetime.now(TZ)
    for k in range(20):
        Message.objects.create(conversation=conversation, channel=channel,
                               direction=Direction.IN if k % 2 == 0 else Direction.OUT,
                               author=None if k % 2 == 0 else user, body=ADMIN[k % len(ADMIN)],
                               status="received", created_at=now - timedelta(minutes=40 - k))
    client = Client()
    client.force_login(user)
    url = reverse("qa:draft-hints", args=[conversation.pk])
    timings = []
    for text in texts:
        t0 = time.perf_counter()
        response = client.post(url, {"text": text}, HTTP_HX_REQUEST="true")
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    shutil.rmtree(folder, ignore_errors=True)
    return sorted(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dialogues", type=int, default=1000)
    parser.add_argument("--drafts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data = [dialogue(n, rng) for n in range(args.dialogues)]
    more = [dialogue(args.dialogues + n, rng) for n in range(args.dialogues)]
    texts = drafts(args.drafts, rng)
    messages = sum(len(d["messages"]) for d in data)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    from qa.checklist.engine import score
    from qa.checklist.json_io import dialogue_from_json, rules_from_json
    results = [score(dialogue_from_json(d)) for d in data]
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    for d in more:
        score(dialogue_from_json(d))
    warm = time.perf_counter() - started

    from qa.checklist.hints import DraftContext, draft_hints
    context = DraftContext(rules=rules_from_json({}), first_reply=True, patient_first_name="Анна",
                           admin_name="Ольга")
    timings: list[float] = []
    for text in texts:
        t0 = time.perf_counter()
        draft_hints(text, context)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    served = server_hints(texts)
    scored = [r.score for r in results if r.score is not None]
    print(f"dialogues: {len(data)} ({messages} messages, {messages / len(data):.1f} per dialogue)")
    print(f"scoring, cold start included: {elapsed:.2f} s = {len(data) / elapsed:.0f} dialogues/s")
    print(f"scoring {len(more)} more in the warm process: {warm:.2f} s = "
          f"{len(more) / warm:.0f} dialogues/s")
    print(f"mean score: {sum(scored) / len(scored):.1f}")
    print(f"peak memory: {peak:.0f} MB (before importing the engine: {rss_before:.0f} MB)")
    print(f"draft hints over {len(texts)} drafts: p50 {percentile(timings, 0.5):.2f} ms, "
          f"p95 {percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms")
    print(f"draft hints through the view, {len(served)} requests: "
          f"p50 {percentile(served, 0.5):.2f} ms, p95 {percentile(served, 0.95):.2f} ms, "
          f"max {max(served):.2f} ms")


if __name__ == "__main__":
    main()
