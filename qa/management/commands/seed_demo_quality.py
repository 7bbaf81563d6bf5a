"""Give the demo clinic six weeks of scored dialogues, so the quality pages show real data.

Run seed_demo, seed_demo_channels and seed_demo_scheduling first. Sixteen dialogues in the
clinic's voice, spread over the last six weeks across the three demo administrators, some by
the standard and some not (a late first reply, a bare price, no name, a stop-word, a spelling
mistake, arguing and empathy after a complaint, a promise kept and one broken, bookings, next
steps, a request not about a visit). Each is written the way the inbox stores one: a patient
and a contact on the demo clinic's Telegram or WhatsApp channel, its conversation, Message
rows, the response timers started, met and breached by the inbox's own services; then it is
resolved with its result through `conversation_status_set` and scored at once with
`scorecard_build`, as the worker would. A manager overrides one verdict (with a comment) and
an administrator disputes one scorecard.

Safe to run twice: the demo contacts' ids start with MARKER, and when one exists the command
does nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from clinic import clock, services
from clinic.hours import ClinicHours, is_working_time, next_working_time
from clinic.management.commands.seed_demo import DEMO_CLINIC
from clinic.models import Clinic, Patient
from clinic.selectors import clinic_hours
from inbox.models import (
    Channel,
    ChannelKind,
    ContactIdentity,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    DialogueOutcome,
    Direction,
    Message,
    MessageKind,
    Notification,
    ResponseTimer,
)
from inbox.services.assignment import conversation_status_set, conversation_take
from inbox.services.auto_replies import OUT_OF_HOURS, when_phrase
from inbox.services.booking import conversation_book
from inbox.services.inbound import message_preview
from inbox.services.timers import clinic_replied, timer_breach, timer_start_for_patient
from qa.models import Scorecard
from qa.selectors import qa_settings_get
from qa.services.review import scorecard_dispute, scorecard_mark_reviewed, scorecard_override
from qa.services.scoring import scorecard_build
from scheduling.models import Appointment, AppointmentStatus, Doctor, Service
from scheduling.selectors import Slot, free_slots
from scheduling.services import appointment_outcome_set

# Every demo contact's id starts with it: a Telegram user id (10 digits) or a WhatsApp wa_id
# (+7 999 000-NN-NN). One of them existing means the quality demo is already there.
MARKER = "7999000"
MANAGER = "manager"
WEEKDAYS_ON = ("в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
               "в воскресенье")
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
          "сентября", "октября", "ноября", "декабря")


class Writer:
    """Writes one dialogue into its conversation as it happens: `d.patient("…")`,
    `d.admin("…", after=2)` (minutes after the message before), `d.promise(…)`, bookings from
    the chat, and the resolve with its result, which also scores it."""

    def __init__(self, *, clinic: Clinic, hours: ClinicHours, conversation: Conversation,
                 admin: Any, start: datetime) -> None:
        self.clinic, self.hours, self.conversation = clinic, hours, conversation
        self.admin_user, self.at = admin, start
        self.tz = ZoneInfo(clinic.timezone)
        self.day = start.astimezone(self.tz).date()
        self.counter = 0
        self.appointments: list[Appointment] = []
        self.scorecard: Scorecard | None = None

    # --- messages -------------------------------------------------------------------------

    def _provider_id(self) -> str:
        self.counter += 1
        contact = self.conversation.contact
        if self.conversation.channel.kind == ChannelKind.TELEGRAM:
            return f"{contact.external_id}:{self.counter}"
        return f"wamid.DEMOQA{contact.external_id}.{self.counter}"

    def _advance(self, minutes: float) -> datetime:
        self.at += timedelta(minutes=minutes)
        return self.at

    def patient(self, text: str, after: float = 1) -> Message:
        at = self._advance(after)
        message = Message.objects.create(
            conversation=self.conversation, channel=self.conversation.channel,
            direction=Direction.IN, kind=MessageKind.TEXT, body=text,
            provider_message_id=self._provider_id(), provider_timestamp=at,
            status=DeliveryStatus.RECEIVED, created_at=at)
        Conversation.objects.filter(pk=self.conversation.pk).update(
            last_message_at=at, last_patient_message_at=at, status=ConversationStatus.OPEN,
            last_message_preview=message_preview(message), unread_count=F("unread_count") + 1)
        timer_start_for_patient(conversation=self.conversation, message=message,
                                new_dialogue=False, now=at)
        return message

    def _outbound(self, text: str, at: datetime, author: Any, kind: str = MessageKind.TEXT,
                  payload: dict | None = None) -> Message:
        message = Message.objects.create(
            conversation=self.conversation, channel=self.conversation.channel,
            direction=Direction.OUT, kind=kind, body=text, payload=payload or {},
            author=author, provider_message_id=self._provider_id(), status=DeliveryStatus.READ,
            sent_at=at + timedelta(seconds=1), created_at=at)
        Conversation.objects.filter(pk=self.conversation.pk).update(
            last_message_at=at, last_message_preview=message_preview(message), unread_count=0)
        return message

    def admin(self, text: str, after: float = 1, kind: str = MessageKind.TEXT) -> Message:
        at = self._advance(after)
        self._breach_due(at)
        if self.conversation.assignee_id is None:
            conversation_take(conversation=self.conversation, user=self.admin_user,
                              now=at - timedelta(seconds=20))
        message = self._outbound(text, at, self.admin_user, kind)
        clinic_replied(conversation=self.conversation, message=message, now=at)
        return message

    def promise(self, text: str, after: float = 0.5) -> Message:
        """"Check with the doctor": the promise starts its own 15-minute clock."""
        return self.admin(text, after, kind=MessageKind.PROMISE)

    def out_of_hours_reply(self, after: float = 0.1) -> Message:
        """The clinic's automatic answer outside working hours, as the inbox sends it."""
        at = self._advance(after)
        opening = next_working_time(self.hours, at)
        text = _("Hello! The clinic is closed now. We will answer you %(when)s.") % {
            "when": when_phrase(opening, at)}
        return self._outbound(text, at, None, payload={"automatic": OUT_OF_HOURS,
                                                        "until": opening.isoformat()})

    def next_opening(self) -> None:
        """Time passes until the clinic opens again."""
        self.at = next_working_time(self.hours, self.at)

    def _breach_due(self, until: datetime) -> None:
        """What the worker does meanwhile: a timer whose due time passed is breached then (the
        assignee and the managers see it in the bell, read by the time of the answer)."""
        for timer in ResponseTimer.objects.filter(conversation=self.conversation,
                                                  met_at__isnull=True, dismissed_at__isnull=True,
                                                  breached_at__isnull=True, due_at__lt=until):
            if timer_breach(timer_id=timer.pk, now=timer.due_at):
                Notification.objects.filter(timer=timer).update(read_at=until)
        self.conversation.refresh_from_db(fields=["assignee"])

    # --- the schedule ---------------------------------------------------------------------

    def slots(self, service: str, doctor: str, *, days: tuple[int, int] = (0, 14),
              not_before: time | None = None, count: int = 2) -> list[Slot]:
        """Free slots of `doctor` for `service` on the dialogue's day + days[0]..days[1], at or
        after `not_before` on each day; the offered ones at least an hour apart. Later days
        are looked at too, when those are full (or holidays), and a little ahead of now: the
        booking comes a few messages later."""
        found = free_slots(
            clinic=self.clinic, service=self._service(service), doctor=self._doctor(doctor),
            start_date=self.day + timedelta(days=days[0]),
            end_date=self.day + timedelta(days=days[1] + 21),
            now=self.at + timedelta(minutes=30), limit=300)
        chosen: list[Slot] = []
        for slot in found:
            if not_before is not None and slot.start.astimezone(self.tz).time() < not_before:
                continue
            if chosen and slot.start - chosen[-1].start < timedelta(hours=1):
                continue
            chosen.append(slot)
            if len(chosen) == count:
                return chosen
        raise CommandError(f"no free slot for «{service}» with {doctor} after {self.at}")

    def book(self, slot: Slot, service: str) -> Appointment:
        """Booked from the chat's booking panel: linked to the patient and the conversation."""
        appointment = conversation_book(
            conversation=self.conversation, doctor=Doctor.objects.get(pk=slot.doctor_id),
            service=self._service(service), start=slot.start, by=self.admin_user, now=self.at)
        self.appointments.append(appointment)
        return appointment

    def _service(self, name: str) -> Service:
        return Service.objects.get(clinic=self.clinic, name=name)

    def _doctor(self, surname: str) -> Doctor:
        return Doctor.objects.get(clinic=self.clinic, name__startswith=f"{surname} ")

    def when(self, moment: datetime) -> str:
        """"сегодня в 15:30", "завтра, 12 ноября, в 10:00", "в четверг, 12 ноября, в 17:15"."""
        local = moment.astimezone(self.tz)
        day, hm = local.date(), f"{local:%H:%M}"
        if day == self.day:
            return f"сегодня в {hm}"
        dated = f"{day.day} {MONTHS[day.month - 1]}, в {hm}"
        if day == self.day + timedelta(days=1):
            return f"завтра, {dated}"
        return f"{WEEKDAYS_ON[day.weekday()]}, {dated}"

    def offer(self, first: Slot, second: Slot) -> str:
        if first.start.astimezone(self.tz).date() == second.start.astimezone(self.tz).date():
            return f"{self.when(first.start)} или в {second.start.astimezone(self.tz):%H:%M}"
        return f"{self.when(first.start)} или {self.when(second.start)}"

    # --- the result -----------------------------------------------------------------------

    def resolve(self, outcome: str, next_step: str = "", after: float = 1) -> None:
        """Resolved with its result in the inbox, and scored as the worker would a moment
        later (a dialogue's scorecard is dated when it was scored)."""
        at = self._advance(after)
        self._breach_due(at)
        conversation_status_set(conversation=self.conversation,
                                status=ConversationStatus.RESOLVED, by=self.admin_user,
                                now=at, outcome=outcome, next_step=next_step)
        window = self.conversation.windows.order_by("-pk").first()
        self.scorecard = scorecard_build(window_id=window.pk, now=at + timedelta(seconds=40))


# --- The dialogues --------------------------------------------------------------------------
# One function a dialogue. The case says who wrote, on which channel, and when it began.

def wisdom_tooth_bare_price(d: Writer) -> None:
    """Dmitry's first weeks: a late first reply that is only a price."""
    d.patient("Добрый день. Сколько стоит удаление зуба мудрости?")
    d.admin("Здравствуйте! От 7000 руб.", after=14)
    d.patient("А от чего зависит цена? У меня нижний, иногда побаливает", after=3)
    d.admin("Сергей, цена зависит от сложности: если зуб лежит горизонтально или не "
            "прорезался, удаление сложное, до 15 000 ₽. Точно скажет хирург по снимку. Могу "
            "записать вас на консультацию к Андрею Павловичу Кузнецову. Снимок у вас есть?",
            after=3)
    d.patient("Снимка нет. Я подумаю и на следующей неделе напишу", after=4)
    d.admin("Хорошо, Сергей. Снимок можно сделать у нас перед приёмом. Напишите, когда будете "
            "готовы, подберу время. Хорошего дня!", after=2)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Пациент напишет на следующей неделе; перед консультацией хирурга сделаем снимок")


def hygiene_booking(d: Writer) -> None:
    """Anna by the standard, from greeting to the reminder."""
    d.patient("Здравствуйте! Хочу записаться на чистку зубов, давно не была. Сколько это стоит?")
    d.admin("Здравствуйте, Елена! Меня зовут Анна, я администратор клиники «Улыбка». "
            "Профессиональная гигиена стоит от 4500 до 6500 ₽: цена зависит от количества "
            "налёта и камня, в неё входят ультразвуковая чистка, Air Flow и полировка. Могу "
            "записать вас к гигиенисту на этой неделе. Подскажите, нет ли кровоточивости дёсен "
            "или чувствительности зубов?", after=2)
    d.patient("Чувствительность немного есть. Можно ближе к вечеру, после работы?", after=3)
    service = "Профессиональная гигиена полости рта"
    first, second = d.slots(service, "Лебедева", days=(2, 9), not_before=time(17, 0))
    d.admin(f"Елена, у гигиениста Марии Андреевны Лебедевой свободно {d.offer(first, second)}. "
            "Про чувствительность обязательно скажите врачу, она подберёт щадящий режим. Какое "
            "время вам удобнее?", after=2)
    d.patient("Первое подойдёт", after=2)
    d.book(first, service)
    d.admin(f"Записала вас {d.when(first.start)} к Марии Андреевне Лебедевой. Адрес: "
            "ул. Пречистенка, 12. За 2 часа до визита лучше не есть и не пить кофе и чай. "
            "Напомнить вам о приёме накануне?", after=1)
    d.patient("Да, напомните, спасибо!", after=1)
    d.admin("Обязательно напомню, Елена. До встречи!", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def waited_complaint_arguing(d: Writer) -> None:
    """A complaint answered with an argument, without a name or a question."""
    d.patient("Добрый день. Вчера была записана к Соколову на 15:00, прождала в холле 40 минут. "
              "Это безобразие, я отпрашивалась с работы!")
    d.admin("Добрый день. Вы сами пришли на 10 минут позже, поэтому врач начал приём "
            "следующего пациента. У нас все по записи.", after=4)
    d.patient("Я пришла в 14:55! Это вы что-то перепутали", after=2)
    d.admin("По журналу вы отметились в 15:10. Можем предложить другое время на этой неделе, "
            "вам удобно в четверг?", after=2)
    d.patient("Нет уж, спасибо. Подумаю, стоит ли к вам вообще ходить.", after=3)
    d.admin("Хорошо. Если решите, пишите.", after=2)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Передать жалобу главному врачу; пациентка решит, переносить ли визит")


def filling_pain_empathy(d: Writer) -> None:
    """A complaint met with empathy, and a visit the next day."""
    d.patient("Здравствуйте. Позавчера поставили пломбу, а сегодня зуб ноет и больно кусать. "
              "Очень недовольна, заплатила 7000 и вот результат")
    d.admin("Здравствуйте, Ольга! Меня зовут Анна, я администратор клиники. Мне очень жаль, "
            "что зуб беспокоит, понимаю, как это неприятно. Так бывает, если пломба чуть выше "
            "прикуса: врач поправит это за 10 минут, бесплатно. Могу записать вас к Елене "
            "Викторовне Смирновой завтра. Скажите, боль постоянная или только когда "
            "кусаете?", after=2)
    d.patient("Только когда кусаю. Когда можно подойти?", after=3)
    service = "Консультация стоматолога-терапевта"
    first, second = d.slots(service, "Смирнова", days=(1, 3))
    d.admin(f"Ольга, у Елены Викторовны свободно {d.offer(first, second)}. Какое время вам "
            "удобнее?", after=1)
    d.patient("Давайте первое", after=2)
    d.book(first, service)
    d.admin(f"Записала вас {d.when(first.start)} к Елене Викторовне Смирновой, приём "
            "бесплатный. Если боль усилится до визита, напишите сразу, хорошо?", after=1)
    d.patient("Хорошо, спасибо за быструю реакцию", after=2)
    d.admin("Поправляйтесь, Ольга! До встречи.", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def braces_call_us(d: Writer) -> None:
    """A stop-word: "перезвоните" (Dmitry disputes the verdict)."""
    d.patient("Здравствуйте, у вас ставят брекеты детям? Дочке 12 лет")
    d.admin("Здравствуйте! Да, конечно. Брекеты ставит наш ортодонт Ирина Олеговна Волкова, "
            "консультация стоит 1500 ₽: врач посмотрит прикус и расскажет о вариантах. Можно "
            "записать дочку на консультацию. Вам удобнее в будни или в субботу?", after=3)
    d.patient("Мне проще по телефону обсудить, можно я вам позвоню?", after=4)
    d.admin("Конечно, перезвоните нам по номеру +7 495 123-45-67 с 9 до 20, администратор "
            "подберёт время.", after=1)
    d.patient("Спасибо", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Мама позвонит в клинику и запишет дочь на консультацию ортодонта")


def tax_certificate(d: Writer) -> None:
    """A request not about a visit, handled well."""
    d.patient("Добрый день! Мне нужна справка об оплате медицинских услуг для налогового вычета "
              "за прошлый год. Как её получить?")
    d.admin("Здравствуйте, Андрей! Меня зовут Ирина, я администратор клиники «Улыбка». Справку "
            "для налогового вычета мы готовим за 3 рабочих дня, нужны ИНН и паспортные данные "
            "того, кто оплачивал лечение. Можем прислать скан сюда или подготовить оригинал к "
            "вашему приходу. Как вам удобнее?", after=2)
    d.patient("Оригинал заберу. Оплачивал я сам, ИНН сейчас пришлю", after=4)
    d.patient("772814590361", after=1)
    d.admin("Андрей, спасибо! Справка будет готова в пятницу после 12:00 на стойке "
            "администратора, ул. Пречистенка, 12. Копия лицензии клиники к ней тоже нужна?",
            after=2)
    d.patient("Да, и лицензию тоже", after=2)
    d.admin("Хорошо, положу копию лицензии вместе со справкой. Могу ещё чем-то помочь?", after=1)
    d.patient("Нет, спасибо!", after=1)
    d.resolve(DialogueOutcome.NOT_ABOUT_VISIT)


def whitening_misspelling(d: Writer) -> None:
    """"Извените": a spelling mistake the checklist counts."""
    d.patient("Здравствуйте, сколько у вас стоит отбеливание?")
    d.admin("Здравствуйте, Ксения! Меня зовут Дмитрий, я администратор. Извените за ожидание. "
            "Отбеливание ZOOM 4 стоит от 25 000 до 30 000 ₽, перед ним нужна профессиональная "
            "гигиена. Хотите, запишу вас на консультацию?", after=4)
    d.patient("А гигиену можно в тот же день?", after=3)
    d.admin("Да, можно в один день: сначала гигиена, потом отбеливание, всего около 2,5 часов. "
            "Ксения, вам удобнее в будни или в субботу?", after=2)
    d.patient("Я посмотрю своё расписание и напишу, спасибо", after=5)
    d.admin("Хорошо, Ксения, буду ждать. Хорошего дня!", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Пациентка напишет удобный день для гигиены и отбеливания")


def implant_flight_promise_kept(d: Writer) -> None:
    """"I'll check with the doctor" — and back in 11 minutes."""
    d.patient("Здравствуйте! Мне в прошлом месяце ставили имплант. Можно ли сейчас лететь на "
              "самолёте? Через неделю командировка")
    d.admin("Здравствуйте, Павел! Меня зовут Анна, я администратор клиники «Улыбка».", after=2)
    d.promise("Павел, уточню у врача и вернусь к вам в течение 15 минут.")
    d.admin("Павел, Дмитрий Сергеевич говорит, что через 4 недели после установки импланта "
            "летать можно, если нет отёка и боли. Перед поездкой он советует показаться на "
            "контрольный осмотр, можем записать вас на этой неделе. Вам удобнее утром или "
            "вечером?", after=11)
    d.patient("Вечером, после 17", after=3)
    service = "Консультация имплантолога с планом лечения"
    first, second = d.slots(service, "Морозов", days=(1, 7), not_before=time(17, 0))
    d.admin(f"Павел, у Дмитрия Сергеевича Морозова свободно {d.offer(first, second)}. Какое "
            "время вам удобнее?", after=2)
    d.patient("Второе", after=2)
    d.book(second, service)
    d.admin(f"Записала вас {d.when(second.start)} к Дмитрию Сергеевичу Морозову. Возьмите, "
            "пожалуйста, паспорт. Напомнить вам о приёме накануне?", after=1)
    d.patient("Да, спасибо!", after=1)
    d.admin("Хорошо, Павел, напомню. До встречи!", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def extraction_fever_promise_broken(d: Writer) -> None:
    """A promise to come back in 15 minutes, kept after 50."""
    d.patient("Здравствуйте. Позавчера удалили зуб мудрости, сегодня поднялась температура "
              "37,8. Это нормально?")
    d.admin("Здравствуйте, Виктория! Меня зовут Ирина, я администратор клиники. Сочувствую, "
            "понимаю, что это тревожно.", after=2)
    d.promise("Виктория, уточню у врача и вернусь к вам в течение 15 минут.")
    d.patient("Жду уже полчаса, мне страшно", after=30)
    d.admin("Виктория, извините, что так долго: Андрей Павлович был на операции. Он говорит, "
            "что небольшая температура в первые дни после сложного удаления бывает, но лучше "
            "показаться. Он посмотрит вас сегодня в 18:30 без записи, между пациентами. Сможете "
            "подъехать?", after=21)
    d.patient("Да, приеду", after=2)
    d.admin("Хорошо, Виктория, ждём вас в 18:30 на Пречистенке, 12. Выздоравливайте!", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Пациентка придёт сегодня в 18:30 на осмотр к хирургу Кузнецову без записи")


def child_dentist_no_name(d: Writer) -> None:
    """The patient never gave a name, and nobody asked."""
    d.patient("Здравствуйте, у вас есть детский стоматолог? Сыну 5 лет, на зубике тёмное "
              "пятнышко")
    d.admin("Здравствуйте! Меня зовут Дмитрий, я администратор клиники «Улыбка». Да, детей "
            "принимает Наталья Игоревна Орлова. Лечение молочного зуба стоит от 3500 до "
            "5500 ₽, первый адаптационный визит 1000 ₽. Можем записать сына на этой неделе. "
            "Пятнышко появилось недавно, ребёнок на боль не жалуется?", after=2)
    d.patient("Недавно, не жалуется. А в субботу она работает?", after=3)
    d.admin("В субботу Наталья Игоревна не принимает, в будни она работает с 9 до 17. Вам "
            "удобнее утром или после обеда?", after=2)
    d.patient("Тогда я уточню на работе и напишу", after=3)
    d.admin("Хорошо, напишите, когда будет удобно, подберу время. Хорошего дня!", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Мама напишет удобный день для визита сына к детскому стоматологу")


def implant_saturday_evening(d: Writer) -> None:
    """Written on Saturday evening, answered on Monday at opening: in time by working hours."""
    d.patient("Добрый вечер. Сколько стоит имплант под ключ? Нет одного зуба сбоку внизу")
    d.out_of_hours_reply()
    d.next_opening()
    d.admin("Доброе утро, Игорь! Меня зовут Анна, я администратор клиники «Улыбка». Имплант "
            "под ключ у нас стоит от 53 000 ₽ (имплант Osstem и металлокерамическая коронка) до "
            "115 000 ₽ (имплант Straumann и коронка из диоксида циркония). Точную стоимость "
            "врач скажет после КТ. Подскажите, зуб удалили давно?", after=4)
    d.patient("Года два назад. КТ у меня есть, делал в прошлом месяце", after=12)
    d.admin("Игорь, отлично, свежая КТ подойдёт. Пришлите её, пожалуйста, сюда: имплантолог "
            "посмотрит и предложит план лечения, а потом запишем вас на консультацию. Так "
            "удобно?", after=2)
    d.patient("Хорошо, вечером пришлю", after=3)
    d.admin("Спасибо, Игорь, будем ждать! Хорошего дня.", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Пациент пришлёт КТ; имплантолог предложит план, затем запишем на консультацию")


def lost_filling_late_reply(d: Writer) -> None:
    """A first reply after 18 minutes, on a busy day (the manager accepts it)."""
    d.patient("Здравствуйте, можно сегодня попасть к терапевту? Выпала пломба")
    service = "Лечение кариеса"
    first, second = d.slots(service, "Соколов", days=(0, 2))
    d.admin("Здравствуйте, Татьяна! Меня зовут Ирина, я администратор клиники «Улыбка». "
            "Простите за долгий ответ. Терапевт Игорь Николаевич Соколов может принять вас "
            f"{d.offer(first, second)}. Пломба выпала целиком, зуб болит?", after=18)
    d.patient("Не болит, но острый край царапает язык. Давайте первое", after=2)
    d.book(first, service)
    d.admin(f"Записала вас {d.when(first.start)} к Игорю Николаевичу Соколову. Лечение "
            "кариеса стоит от 5000 до 8500 ₽, точную стоимость скажет врач. Позавтракайте "
            "заранее: после анестезии 2 часа лучше не есть. Ждём вас!", after=1)
    d.patient("Спасибо!", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def orthodontist_booking(d: Writer) -> None:
    """Dmitry a month later: by the standard."""
    d.patient("Добрый день! Хочу записаться на консультацию к ортодонту, у меня неровные "
              "передние зубы")
    d.admin("Здравствуйте, Алина! Меня зовут Дмитрий, я администратор клиники «Улыбка». "
            "Консультация ортодонта стоит 1500 ₽: врач осмотрит прикус и расскажет о вариантах, "
            "брекеты или элайнеры. Могу записать вас к Ирине Олеговне Волковой. Вас беспокоит "
            "только эстетика или есть неудобство при жевании?", after=2)
    d.patient("В основном эстетика. Можно на следующей неделе?", after=3)
    service = "Консультация ортодонта"
    first, second = d.slots(service, "Волкова", days=(5, 12))
    d.admin(f"Алина, у Ирины Олеговны свободно {d.offer(first, second)}. Какое время вам "
            "удобнее?", after=2)
    d.patient("Первое", after=2)
    d.book(first, service)
    d.admin(f"Записал вас {d.when(first.start)} к Ирине Олеговне Волковой. Если есть ОПТГ и "
            "ТРГ, возьмите их с собой. Напомнить вам о приёме накануне?", after=1)
    d.patient("Да, пожалуйста", after=1)
    d.admin("Хорошо, Алина, напомню. До встречи!", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def sealants_next_step(d: Writer) -> None:
    """An agreed next step: the mother writes back on Thursday."""
    d.patient("Здравствуйте! Хочу записать дочку 7 лет на герметизацию фиссур, стоматолог "
              "посоветовал. Сколько стоит?")
    d.admin("Здравствуйте, Юлия! Меня зовут Ирина, я администратор клиники «Улыбка». "
            "Герметизация фиссур стоит от 2000 до 2500 ₽ за зуб, цена зависит от материала. "
            "Детей у нас принимает Наталья Игоревна Орлова, можем записать дочку на этой "
            "неделе. Подскажите, сколько зубов нужно закрыть?", after=3)
    d.patient("Сказали 4 коренных. Я уточню расписание школы и напишу вам в четверг", after=4)
    d.admin("Юлия, тогда процедура займёт около часа. Напишите в четверг, и я подберу время "
            "после уроков. Договорились?", after=2)
    d.patient("Да, спасибо!", after=1)
    d.admin("До связи, Юлия! Хорошего дня.", after=1)
    d.resolve(DialogueOutcome.NEXT_STEP,
              "Мама напишет в четверг; запишем дочь на герметизацию фиссур к Н. И. Орловой")


def chipped_tooth_booking(d: Writer) -> None:
    """A specific request, a booking in two messages."""
    d.patient("Здравствуйте! Откололся кусочек переднего зуба, хочу восстановить. Когда можно "
              "попасть?")
    service = "Художественная реставрация зуба"
    first, second = d.slots(service, "Смирнова", days=(1, 6))
    d.admin("Здравствуйте, Михаил! Меня зовут Анна, я администратор клиники «Улыбка». "
            "Восстановим обязательно: если скол небольшой, врач сделает художественную "
            "реставрацию за один визит, это от 9000 до 14 000 ₽. Ближайшее время у Елены "
            f"Викторовны Смирновой: {d.offer(first, second)}. Какое время вам удобнее?",
            after=2)
    d.patient("Второе", after=4)
    d.book(second, service)
    d.admin(f"Записала вас {d.when(second.start)} к Елене Викторовне Смирновой. Адрес: "
            "ул. Пречистенка, 12. Будут ли ещё вопросы?", after=1)
    d.patient("Нет, спасибо", after=1)
    d.admin("Хорошего вечера, Михаил! До встречи.", after=1)
    d.resolve(DialogueOutcome.BOOKED)


def insurance_question(d: Writer) -> None:
    """A question about insurance: not about a visit."""
    d.patient("Добрый вечер, вы работаете по ДМС? У меня полис Ингосстраха")
    d.admin("Добрый вечер, Роман! Меня зовут Дмитрий, я администратор клиники «Улыбка». С "
            "Ингосстрахом у нас есть договор, лечение по ДМС возможно по гарантийному письму "
            "страховой, его обычно присылают за 1–2 дня. Подскажите, какое лечение вам "
            "нужно?", after=2)
    d.patient("Пока просто узнаю на будущее, спасибо", after=3)
    d.admin("Понял вас, Роман. Когда понадобится, напишите, и я помогу с гарантийным письмом. "
            "Могу ещё чем-то помочь?", after=1)
    d.patient("Нет, всё понятно", after=2)
    d.resolve(DialogueOutcome.NOT_ABOUT_VISIT)


@dataclass(frozen=True)
class Case:
    key: int  # the contact's id is MARKER + key
    admin: str  # username of a demo administrator
    channel: str
    days_ago: int
    at: time  # local start; the day moves back to one where the dialogue fits working hours
    patient: tuple[str, str, str] | None  # first name, patronymic, last name; None: unknown
    display_name: str
    script: Callable[[Writer], None]
    minutes: int = 40  # how long it takes, to fit it into working hours
    saturday_evening: bool = False  # begins out of hours on a Saturday evening


CASES = (
    Case(1, "dmitry", ChannelKind.WHATSAPP, 40, time(11, 20), ("Сергей", "Николаевич", "Попов"),
         "Сергей", wisdom_tooth_bare_price),
    Case(2, "anna", ChannelKind.TELEGRAM, 38, time(10, 5), ("Елена", "Викторовна", "Фёдорова"),
         "Елена Фёдорова", hygiene_booking),
    Case(3, "irina", ChannelKind.TELEGRAM, 35, time(16, 10), ("Наталья", "Сергеевна", "Егорова"),
         "Наталья Егорова", waited_complaint_arguing),
    Case(4, "anna", ChannelKind.WHATSAPP, 33, time(12, 10), ("Ольга", "Петровна", "Зайцева"),
         "Ольга", filling_pain_empathy),
    Case(5, "dmitry", ChannelKind.TELEGRAM, 31, time(17, 30),
         ("Светлана", "Игоревна", "Макарова"), "Светлана М.", braces_call_us),
    Case(6, "irina", ChannelKind.WHATSAPP, 28, time(10, 40), ("Андрей", "Олегович", "Никитин"),
         "Андрей Никитин", tax_certificate),
    Case(7, "dmitry", ChannelKind.WHATSAPP, 26, time(15, 15), ("Ксения", "Андреевна", "Гусева"),
         "Ксюша", whitening_misspelling),
    Case(8, "anna", ChannelKind.TELEGRAM, 24, time(11, 30), ("Павел", "Юрьевич", "Тихонов"),
         "Павел Тихонов", implant_flight_promise_kept),
    Case(9, "irina", ChannelKind.TELEGRAM, 21, time(12, 40), ("Виктория", "Ильинична", "Крылова"),
         "Вика Крылова", extraction_fever_promise_broken, minutes=70),
    Case(10, "dmitry", ChannelKind.TELEGRAM, 19, time(10, 20), None, "kate_m",
         child_dentist_no_name),
    Case(11, "anna", ChannelKind.WHATSAPP, 16, time(17, 40), ("Игорь", "Павлович", "Ковалёв"),
         "Игорь", implant_saturday_evening, saturday_evening=True),
    Case(12, "irina", ChannelKind.WHATSAPP, 14, time(13, 10), ("Татьяна", "Михайловна", "Ильина"),
         "Татьяна", lost_filling_late_reply),
    Case(13, "dmitry", ChannelKind.TELEGRAM, 10, time(12, 30), ("Алина", "Дмитриевна", "Титова"),
         "Алина Титова", orthodontist_booking),
    Case(14, "irina", ChannelKind.TELEGRAM, 6, time(11, 10), ("Юлия", "Алексеевна", "Баранова"),
         "Юлия Баранова", sealants_next_step),
    Case(15, "anna", ChannelKind.WHATSAPP, 3, time(16, 45), ("Михаил", "Евгеньевич", "Жуков"),
         "Михаил", chipped_tooth_booking),
    Case(16, "dmitry", ChannelKind.WHATSAPP, 2, time(18, 20), ("Роман", "Владимирович", "Сорокин"),
         "Роман С.", insurance_question),
)
OVERRIDE = (12, "first_reply_time", "pass",
            "В тот день в 13:00 сломалась касса, у стойки стояла очередь, а Ирина была на смене "
            "одна. Ответ через 18 минут в такой ситуации засчитываю, тем более она извинилась.")
DISPUTE = (5, "dmitry",
           "Пациентка сама попросила обсудить всё по телефону, поэтому я и написал "
           "«перезвоните» с нашим номером. Это ответ на её просьбу, а не отказ помочь.")


class Command(BaseCommand):
    help = "Give the demo clinic six weeks of resolved, scored dialogues (safe to run twice)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo_quality writes demo data; it runs only with DEBUG=1 "
                               "(or --force).")
        clinic = Clinic.objects.filter(name=DEMO_CLINIC).first()
        if clinic is None:
            raise CommandError(f"No demo clinic «{DEMO_CLINIC}»: run seed_demo first.")
        if ContactIdentity.objects.filter(clinic=clinic, external_id__startswith=MARKER).exists():
            self.stdout.write(f"{clinic.name}: the quality demo is already there.")
            return
        channels = {c.kind: c for c in Channel.objects.filter(clinic=clinic, is_active=True)}
        if not {ChannelKind.TELEGRAM, ChannelKind.WHATSAPP} <= set(channels):
            raise CommandError("No demo Telegram and WhatsApp channels: run seed_demo_channels "
                               "first.")
        if not Service.objects.filter(clinic=clinic).exists():
            raise CommandError("No doctors and services: run seed_demo_scheduling first.")
        users = {u.username: u for u in get_user_model().objects.filter(
            username__in=[MANAGER, *{c.admin for c in CASES}], memberships__clinic=clinic)}
        missing = {MANAGER, *(c.admin for c in CASES)} - set(users)
        if missing:
            raise CommandError(f"No demo staff {sorted(missing)}: run seed_demo first.")
        now = clock.now()
        with transaction.atomic():
            scorecards = self._dialogues(clinic, channels, users, now)
            self._feedback(clinic, scorecards, users)
        self._report(clinic, scorecards)

    def _dialogues(self, clinic: Clinic, channels: dict[str, Channel], users: dict[str, Any],
                   now: datetime) -> dict[int, Scorecard]:
        hours = clinic_hours(clinic=clinic)
        today = now.astimezone(ZoneInfo(clinic.timezone)).date()
        scorecards = {}
        appointments: list[Appointment] = []
        for case in CASES:
            start = self._start(case, hours, today, ZoneInfo(clinic.timezone))
            conversation = self._conversation(clinic, channels[case.channel], case, start)
            writer = Writer(clinic=clinic, hours=hours, conversation=conversation,
                            admin=users[case.admin], start=start - timedelta(minutes=1))
            case.script(writer)
            if writer.at >= now:
                raise CommandError(f"dialogue {case.key} would end in the future")
            if writer.scorecard is None:
                raise CommandError(f"dialogue {case.key} ({case.script.__name__}) was not scored")
            scorecards[case.key] = writer.scorecard
            appointments += writer.appointments
        for appointment in appointments:  # the visits that have passed took place
            if appointment.end <= now:
                appointment_outcome_set(appointment=appointment,
                                        status=AppointmentStatus.COMPLETED, now=now)
        return scorecards

    @staticmethod
    def _start(case: Case, hours: ClinicHours, today: date, tz: ZoneInfo) -> datetime:
        """The case's time on its day, moved back to a day when the whole dialogue falls in
        working hours (no Sunday, no holiday, no Saturday afternoon); a Saturday-evening case
        takes the last Saturday on or before its day, when the clinic is closed."""
        day = today - timedelta(days=case.days_ago)
        if case.saturday_evening:
            day -= timedelta(days=(day.weekday() - 5) % 7)
        for _attempt in range(30):
            start = datetime.combine(day, case.at, tz)
            end = start + timedelta(minutes=case.minutes)
            if case.saturday_evening:
                if not is_working_time(hours, start):
                    return start
                day -= timedelta(days=7)
                continue
            if (is_working_time(hours, start) and is_working_time(hours, end)
                    and start.weekday() < 5):
                return start
            day -= timedelta(days=1)
        raise CommandError(f"no day for dialogue {case.key} in the clinic's working hours")

    @staticmethod
    def _conversation(clinic: Clinic, channel: Channel, case: Case,
                      start: datetime) -> Conversation:
        """The patient card (unless the patient is unknown), the contact on the channel, and
        their conversation, as the inbox has them after the first message."""
        external_id = f"{MARKER}{case.key:03d}" if channel.kind == ChannelKind.TELEGRAM \
            else f"{MARKER}{case.key:04d}"
        phone = f"+{MARKER}{case.key:04d}"
        patient = None
        if case.patient is not None:
            first, patronymic, last = case.patient
            patient = services.patient_create(
                clinic=clinic, first_name=first, patronymic=patronymic, last_name=last,
                phone=phone, preferred_channel=channel.kind)
            Patient.objects.filter(pk=patient.pk).update(created_at=start)
        contact = ContactIdentity.objects.create(
            clinic=clinic, channel=channel, external_id=external_id,
            display_name=case.display_name,
            phone=phone if channel.kind == ChannelKind.WHATSAPP else "", patient=patient)
        conversation = Conversation.objects.create(clinic=clinic, channel=channel,
                                                   contact=contact, patient=patient)
        ContactIdentity.objects.filter(pk=contact.pk).update(created_at=start)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=start)
        return conversation

    @staticmethod
    def _feedback(clinic: Clinic, scorecards: dict[int, Scorecard],
                  users: dict[str, Any]) -> None:
        """The morning after, a manager accepts one late reply (and marks it reviewed); an
        administrator disputes a stop-word a couple of hours after the scoring."""
        key, code, result, comment = OVERRIDE
        card = scorecards[key]
        reasons = qa_settings_get(clinic=clinic).override_reasons
        reason = "Контекст диалога" if "Контекст диалога" in reasons else reasons[0]
        at = card.scored_at + timedelta(hours=20)
        scorecard_override(item=card.items.get(code=code), by=users[MANAGER], result=result,
                           comment=comment, reason=reason, now=at)
        scorecard_mark_reviewed(scorecard=card, by=users[MANAGER],
                                now=at + timedelta(minutes=1))
        key, username, comment = DISPUTE
        card = scorecards[key]
        scorecard_dispute(scorecard=card, by=users[username], comment=comment,
                          now=card.scored_at + timedelta(hours=2))

    def _report(self, clinic: Clinic, scorecards: dict[int, Scorecard]) -> None:
        by_admin: dict[str, list[str]] = {}
        for card in Scorecard.objects.filter(pk__in=[c.pk for c in scorecards.values()]) \
                .select_related("administrator").order_by("window_end"):
            name = card.administrator.get_full_name() if card.administrator else "—"
            by_admin.setdefault(name, []).append(f"{card.score:g}")
        self.stdout.write(self.style.SUCCESS(
            f"{clinic.name}: {len(scorecards)} scored dialogues over six weeks"))
        for name, scores in sorted(by_admin.items()):
            self.stdout.write(f"  {name}: {', '.join(scores)}")
