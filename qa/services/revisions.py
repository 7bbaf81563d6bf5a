"""The clinic's checklist: revisions that never change once used, and the quality settings.

Every clinic has exactly one current revision. The default, "1.2", is made with the clinic
(`checklist_revision_ensure_default`: called when a clinic is created, and lazily by the
selector). An owner's edit makes the next revision ("1.3"), a copy of the current one with the
changes (`checklist_revision_save`); a revision a scorecard already used is never edited in
place (`checklist_revision_update` refuses). Changes go to the clinic's setting history.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinic.models import Clinic, ClinicSettingChange, NameStyle, Role
from qa.checklist import DEFAULT_ITEMS, DEFAULT_NUMBER
from qa.models import ChecklistItem, ChecklistRevision, QaSettings, Scorecard
from qa.services.access import QaRefused, role_require

WEIGHT_MAX = Decimal("999.99")
WORDS_MAX = 500


class RevisionLocked(QaRefused):
    """The revision has scored dialogues: it stays as it is; save the change as a new one."""


@dataclass(frozen=True)
class ItemSpec:
    """A checklist item's settings, as a revision stores them."""

    code: str
    position: int
    title: str
    description: str = ""
    weight: Decimal = Decimal(1)
    enabled: bool = True
    critical: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)


def _minutes(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24 * 60:
        raise QaRefused(_("Minutes must be a number from 1 to 1440."))
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
        raise QaRefused(_("The emoji limit must be a whole number from 0 to 50."))
    return value


def _words(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(w, str) for w in value):
        raise QaRefused(_("A list of words or phrases is expected."))
    words = list(dict.fromkeys(" ".join(w.split()) for w in value if w.strip()))
    if len(words) > WORDS_MAX:
        raise QaRefused(_("At most %(n)s words or phrases.") % {"n": WORDS_MAX})
    return words


def _name_style(value: Any) -> str:
    if value not in NameStyle.values:
        raise QaRefused(_("Unknown way to address the patient."))
    return value


# The parameters each item takes; a missing one takes the clinic's setting (see qa.services.
# scoring.rules_build).
PARAMETERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "first_reply_time": {"minutes": _minutes},
    "reply_time": {"minutes": _minutes},
    "promise_kept": {"minutes": _minutes},
    "name_used": {"name_style": _name_style},
    "emoji": {"emoji_limit": _count},
    "stop_words": {"stop_words": _words},
    "literacy": {"dictionary": _words},
}


def _default_specs() -> list[ItemSpec]:
    return [ItemSpec(code=code, position=position, title=title, description=description)
            for position, (code, title, description) in enumerate(DEFAULT_ITEMS, start=1)]


def _specs(revision: ChecklistRevision) -> list[ItemSpec]:
    return [ItemSpec(code=i.code, position=i.position, title=i.title, description=i.description,
                     weight=Decimal(i.weight), enabled=i.enabled, critical=i.critical,
                     parameters=dict(i.parameters))
            for i in revision.items.order_by("position", "id")]


def _items_create(revision: ChecklistRevision, specs: list[ItemSpec]) -> None:
    ChecklistItem.objects.bulk_create([
        ChecklistItem(revision=revision, position=s.position, code=s.code, title=s.title,
                      description=s.description, weight=s.weight, enabled=s.enabled,
                      critical=s.critical, parameters=s.parameters)
        for s in specs])


def checklist_revision_ensure_default(*, clinic: Clinic) -> ChecklistRevision:
    """The clinic's current revision; the default "1.2" is made first if it has none. Safe to
    run at the same time in two processes (the unique number decides; the loser reads)."""
    current = ChecklistRevision.objects.filter(clinic=clinic, is_current=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            revision = ChecklistRevision.objects.create(
                clinic=clinic, number=DEFAULT_NUMBER, created_at=clinic.created_at,
                is_current=True)
            _items_create(revision, _default_specs())
    except IntegrityError:
        return ChecklistRevision.objects.get(clinic=clinic, is_current=True)
    return revision


def _value(code: str, name: str, value: Any) -> Any:
    if name == "title":
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise QaRefused(_("An item needs a title of at most 200 characters."))
        return value.strip()
    if name == "description":
        if not isinstance(value, str):
            raise QaRefused(_("The description must be text."))
        return value.strip()
    if name == "weight":
        try:
            weight = Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise QaRefused(_("A weight must be a number.")) from None
        if not Decimal(0) < weight <= WEIGHT_MAX:
            raise QaRefused(_("A weight must be above 0 and at most %(max)s.")
                            % {"max": WEIGHT_MAX})
        return weight
    if name in ("enabled", "critical"):
        if not isinstance(value, bool):
            raise QaRefused(_("Yes or no is expected."))
        return value
    if name == "position":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise QaRefused(_("A position must be a whole number from 1."))
        return value
    if name == "parameters":
        allowed = PARAMETERS.get(code, {})
        if not isinstance(value, Mapping) or set(value) - set(allowed):
            raise QaRefused(_("Item “%(code)s” takes no parameter %(names)s.") % {
                "code": code, "names": ", ".join(sorted(set(value) - set(allowed)))
                if isinstance(value, Mapping) else "?"})
        return {key: allowed[key](v) for key, v in value.items()}
    raise QaRefused(_("A checklist item has no setting “%(name)s”.") % {"name": name})


def _apply(specs: list[ItemSpec], changes: Mapping[str, Mapping[str, Any]]) -> list[ItemSpec]:
    """The items with `changes` ({code: {"weight": 2, "enabled": False, ...}}), validated."""
    by_code = {s.code: s for s in specs}
    unknown = set(changes) - set(by_code)
    if unknown:
        raise QaRefused(_("The checklist has no item %(codes)s.")
                        % {"codes": ", ".join(sorted(unknown))})
    for code, change in changes.items():
        by_code[code] = replace(by_code[code], **{name: _value(code, name, value)
                                                  for name, value in change.items()})
    result = sorted(by_code.values(), key=lambda s: (s.position, s.code))
    if not any(s.enabled for s in result):
        raise QaRefused(_("At least one item of the checklist must be enabled."))
    return result


def _next_number(clinic: Clinic) -> str:
    numbers = []
    for number in ChecklistRevision.objects.filter(clinic=clinic).values_list("number",
                                                                            flat=True):
        major, _dot, minor = number.partition(".")
        if major.isdigit() and minor.isdigit():
            numbers.append((int(major), int(minor)))
    major, minor = max(numbers, default=(1, 1))
    return f"{major}.{minor + 1}"


def _changed(before: list[ItemSpec], after: list[ItemSpec]) -> tuple[dict, dict]:
    old = {s.code: s for s in before}
    changed = [s for s in after if s != old[s.code]]

    def shown(spec: ItemSpec) -> dict:
        return {"weight": str(spec.weight), "enabled": spec.enabled, "critical": spec.critical,
                "parameters": spec.parameters, "title": spec.title, "position": spec.position}

    return ({s.code: shown(old[s.code]) for s in changed}, {s.code: shown(s) for s in changed})


def checklist_revision_save(*, clinic: Clinic, by: object,
                            changes: Mapping[str, Mapping[str, Any]], now: datetime,
                            based_on: ChecklistRevision | None = None) -> ChecklistRevision:
    """The owner's edit: a new revision with the next number, a copy of the current one with
    `changes` ({code: {"weight": 2, "critical": True, "parameters": {"emoji_limit": 1}}}),
    that scores new dialogues from now on; scorecards keep the revision they were scored
    with. Nothing changed: the current revision, and no new one. With `based_on` (the revision
    the owner edited), refused when another revision became current meanwhile."""
    role_require(user=by, clinic_id=clinic.pk, role=Role.OWNER)
    with transaction.atomic():
        Clinic.objects.select_for_update().filter(pk=clinic.pk).get()  # one edit at a time
        current = checklist_revision_ensure_default(clinic=clinic)
        if based_on is not None and based_on.pk != current.pk:  # another owner saved first
            raise QaRefused(_("Revision %(number)s was saved while you were editing: check your "
                              "changes against it and save again.") % {"number": current.number})
        before = _specs(current)
        after = _apply(before, changes)
        if after == before:
            return current
        number = _next_number(clinic)
        ChecklistRevision.objects.filter(pk=current.pk).update(is_current=False)
        revision = ChecklistRevision.objects.create(clinic=clinic, number=number,
                                                    created_at=now, created_by=by,
                                                    is_current=True)
        _items_create(revision, after)
        old, new = _changed(before, after)
        ClinicSettingChange.objects.create(
            clinic=clinic, changed_by=by, changed_at=now, field="qa:checklist_revision",
            old_value={"revision": current.number, "items": old},
            new_value={"revision": number, "items": new})
    return revision


def checklist_revision_update(*, revision: ChecklistRevision, by: object,
                              changes: Mapping[str, Mapping[str, Any]],
                              now: datetime) -> ChecklistRevision:
    """Edit a revision in place: only while no scorecard uses it (RevisionLocked otherwise,
    telling to save a new revision instead)."""
    role_require(user=by, clinic_id=revision.clinic_id, role=Role.OWNER)
    with transaction.atomic():
        revision = ChecklistRevision.objects.select_for_update().get(pk=revision.pk)
        if Scorecard.objects.filter(revision=revision).exists():
            raise RevisionLocked(
                _("Revision %(number)s has already scored dialogues and cannot change: save "
                  "the changes as a new revision.") % {"number": revision.number})
        before = _specs(revision)
        after = _apply(before, changes)
        if after == before:
            return revision
        revision.items.all().delete()
        _items_create(revision, after)
        old, new = _changed(before, after)
        ClinicSettingChange.objects.create(
            clinic_id=revision.clinic_id, changed_by=by, changed_at=now,
            field="qa:checklist_revision", old_value={"revision": revision.number, "items": old},
            new_value={"revision": revision.number, "items": new})
    return revision


QA_SETTING_FIELDS = ("review_threshold", "review_share", "override_reasons")


def _setting(name: str, value: Any) -> Any:
    if name in ("review_threshold", "review_share"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise QaRefused(_("A whole number from 0 to 100 is expected."))
        return value
    if name == "override_reasons":
        if (not isinstance(value, list | tuple)
                or not all(isinstance(r, str) for r in value)):
            raise QaRefused(_("A list of reasons is expected."))
        reasons = list(dict.fromkeys(" ".join(r.split())[:200] for r in value if r.strip()))
        if not reasons:
            raise QaRefused(_("Keep at least one reason for overriding a verdict."))
        return reasons
    raise QaRefused(_("Not a quality setting: %(name)s") % {"name": name})


def qa_settings_update(*, clinic: Clinic, changed_by: object, changes: Mapping[str, Any],
                       now: datetime) -> list[ClinicSettingChange]:
    """Change the review queue's rule or the override reasons; each changed value is recorded
    in the clinic's setting history (as "qa:<field>")."""
    role_require(user=changed_by, clinic_id=clinic.pk, role=Role.OWNER)
    values = {name: _setting(name, value) for name, value in changes.items()}
    with transaction.atomic():
        QaSettings.objects.get_or_create(clinic=clinic)
        settings = QaSettings.objects.select_for_update().get(clinic=clinic)
        records = []
        for name, new in values.items():
            old = getattr(settings, name)
            if old == new:
                continue
            setattr(settings, name, new)
            records.append(ClinicSettingChange(clinic=clinic, changed_by=changed_by,
                                               changed_at=now, field=f"qa:{name}",
                                               old_value=old, new_value=new))
        if records:
            settings.save(update_fields=[r.field.removeprefix("qa:") for r in records])
            ClinicSettingChange.objects.bulk_create(records)
    return records
