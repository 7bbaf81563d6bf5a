"""Services: matched by name; a price or a range, the duration, who performs them."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from scheduling.imports.kinds.base import Column, Importer, Row, by_name, one_line, too_long_check
from scheduling.imports.reading import bool_parse, list_parse, minutes_parse, name_key, price_parse
from scheduling.imports.report import Action, RowOutcome
from scheduling.models import MAX_DURATION_MINUTES, Doctor, Service

MIN_DURATION_MINUTES = 5


def _price_label(low: Decimal, high: Decimal) -> str:
    def amount(value: Decimal) -> str:
        return f"{value:,.0f}".replace(",", " ") if value == value.to_integral_value() else (
            f"{value:,.2f}".replace(",", " "))
    return f"{amount(low)} ₽" if low == high else f"{amount(low)}–{amount(high)} ₽"


class ServiceImporter(Importer):
    """Services are matched by name; the doctors named must exist (or come earlier in the batch)."""

    kind = "services"
    label = _("Services")
    columns = (
        Column("name", "name", "название", _("The service as the price list names it; an "
                                             "existing service with this name is updated."),
               aliases=("service", "услуга", "наименование", "название услуги"), required=True),
        Column("category", "category", "категория", _("A section of the price list."),
               aliases=("раздел", "group", "группа")),
        Column("duration", "duration", "длительность",
               _("Minutes (5 to 720); needed for a new service."),
               aliases=("duration minutes", "minutes", "длительность мин", "минуты",
                        "продолжительность", "длительность минут")),
        Column("price", "price", "цена",
               _("A price (5000) or a range (5000-8000) in roubles; needed for a new service."),
               aliases=("cost", "стоимость", "цена руб", "price rub")),
        Column("doctors", "doctors", "врачи",
               _("Who performs it: doctors' names, separated by commas, exactly as in the "
                 "doctors file."),
               aliases=("doctor", "врач", "performed by")),
        Column("preparation", "preparation", "подготовка",
               _("What the patient should know before the visit."),
               aliases=("preparation notes", "памятка", "памятка пациенту")),
        Column("active", "active", "активна",
               _("yes or no (да / нет); empty means yes for a new service."),
               aliases=("активен", "действует", "is active")),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.existing = by_name(Service.objects.filter(clinic=self.clinic)
                                 .prefetch_related("doctors"))
        self.doctors = by_name(Doctor.objects.filter(clinic=self.clinic))
        self.seen: dict[str, int] = {}

    def _doctors(self, row: Row) -> list[Doctor] | None:
        names = row.parse("doctors", list_parse)
        if not names:
            return None
        found = []
        for name in names:
            matches = self.doctors.get(name_key(name), [])
            if len(matches) == 1:
                found.append(matches[0])
            elif matches:
                row.error("doctors", "ambiguous_doctor",
                          _("Several doctors are named “%(name)s”.") % {"name": name})
            else:
                row.error("doctors", "unknown_doctor",
                          _("No doctor named “%(name)s”: import doctors first, or check the "
                            "spelling.") % {"name": name})
        return found

    def row_import(self, row: Row) -> RowOutcome:
        name = one_line(row.get("name"))
        if not name:
            row.error("name", "required", _("The service's name is empty."))
        too_long_check(row, "name", name, 200)
        category = one_line(row.get("category"))
        too_long_check(row, "category", category, 100)
        duration = row.parse("duration", minutes_parse)
        if duration is not None and not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
            row.error("duration", "duration_range",
                      _("A service lasts from %(min)d to %(max)d minutes.")
                      % {"min": MIN_DURATION_MINUTES, "max": MAX_DURATION_MINUTES})
        price = row.parse("price", price_parse)
        doctors = self._doctors(row)
        preparation = row.get("preparation").strip()
        active = row.parse("active", bool_parse)
        key = name_key(name)
        existing = self.existing.get(key, [])
        if name and key in self.seen:
            row.error("name", "duplicate", _("The same service as on line %(line)d.")
                      % {"line": self.seen[key]})
        elif name:
            self.seen[key] = row.line
            if not existing and not row.get("duration"):
                row.error("duration", "required",
                          _("A new service needs its duration in minutes."))
            if not existing and not row.get("price"):
                row.error("price", "required", _("A new service needs a price or a range."))
        if row.issues:
            return row.failed(name)
        if len(existing) > 1:
            row.error("name", "ambiguous", _("The clinic already has %(count)d services with "
                                             "this name: rename them apart first.")
                      % {"count": len(existing)})
            return row.failed(name)
        if not existing:
            assert duration is not None and price is not None
            service = Service.objects.create(
                clinic=self.clinic, name=name, category=category, duration_minutes=duration,
                price_min=price[0], price_max=price[1], preparation=preparation,
                active=True if active is None else active)
            if doctors:
                service.doctors.set(doctors)
            self.existing[key] = [service]
            return RowOutcome(row.line, Action.CREATE, f"{name}, {_price_label(*price)}",
                              ", ".join(d.name for d in doctors or []))
        service = existing[0]
        values: dict[str, Any] = {"category": category or None, "duration_minutes": duration,
                                  "preparation": preparation or None, "active": active}
        if price is not None:
            values["price_min"], values["price_max"] = price
        changed = [f for f, v in values.items() if v is not None and getattr(service, f) != v]
        for field in changed:
            setattr(service, field, values[field])
        if changed:
            service.save(update_fields=changed)
        notes = [str(Service._meta.get_field(f).verbose_name) for f in changed]
        if doctors is not None and {d.pk for d in doctors} != {
                d.pk for d in service.doctors.all()}:
            service.doctors.set(doctors)
            notes.append(str(Service._meta.get_field("doctors").verbose_name))
        label = f"{name}, {_price_label(service.price_min, service.price_max)}"
        if not notes:
            return RowOutcome(row.line, Action.SKIP, label, str(_("unchanged")))
        return RowOutcome(row.line, Action.UPDATE, label, ", ".join(notes))
