"""The owner's checklist editor: the current revision's items, the revisions before it, the
quality settings; and a manager's re-score of a scorecard with a newer revision.

Only the owner changes the checklist and the settings (the services check it too); managers
see the same page read-only; administrators get a 403. Saving never edits a revision: it makes
the next one ("1.3"), which scores new dialogues, while scorecards keep the one they were
scored with.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.access import clinic_view
from clinic.models import Clinic, Role
from qa.forms import (
    PARAMETER_LABELS,
    ChecklistForm,
    QaSettingsForm,
    RescoreForm,
    parameter_default,
    parameter_shown,
)
from qa.models import ChecklistItem, ChecklistRevision, Scorecard
from qa.selectors import (
    checklist_revision_current,
    checklist_revision_list,
    qa_settings_get,
    scorecard_get_for_user,
)
from qa.services.access import QaRefused
from qa.services.revisions import PARAMETERS, checklist_revision_save, qa_settings_update
from qa.services.scoring import scorecard_rescore


def _revisions(clinic: Clinic) -> QuerySet[ChecklistRevision]:
    """Newest first, each with `scorecard_count` (history scorecards included)."""
    return checklist_revision_list(clinic=clinic).annotate(scorecard_count=Count("scorecards"))


def _parameters(clinic: Clinic, revision: ChecklistRevision) -> None:
    """`item.shown_parameters` for a read-only table: (label, value, follows the clinic's
    standard)."""
    for item in revision.items.all():
        item.shown_parameters = []
        for name in PARAMETERS.get(item.code, {}):
            own = name in item.parameters
            value = (item.parameters[name] if own
                     else parameter_default(clinic=clinic, code=item.code, name=name))
            item.shown_parameters.append((PARAMETER_LABELS[name], parameter_shown(name, value),
                                          not own))


def _page(request: HttpRequest, *, form: ChecklistForm | None = None,
          settings_form: QaSettingsForm | None = None) -> HttpResponse:
    clinic = request.clinic
    current = checklist_revision_current(clinic=clinic)
    can_edit = request.membership.has_role(Role.OWNER)
    if can_edit:
        form = form or ChecklistForm(revision=current, clinic=clinic)
        settings_form = settings_form or QaSettingsForm(settings=qa_settings_get(clinic=clinic))
    else:
        _parameters(clinic, current)
    return render(request, "qa/checklist.html", {
        "revision": current, "form": form, "settings_form": settings_form,
        "can_edit": can_edit, "revisions": list(_revisions(clinic)),
        "qa_settings": qa_settings_get(clinic=clinic)})


@clinic_view(Role.MANAGER)
def checklist(request: HttpRequest) -> HttpResponse:
    """The current revision: the owner edits it (saving makes the next revision), a manager
    reads it."""
    if request.method != "POST":
        return _page(request)
    if not request.membership.has_role(Role.OWNER):
        raise PermissionDenied
    clinic = request.clinic
    current = checklist_revision_current(clinic=clinic)
    form = ChecklistForm(request.POST, revision=current, clinic=clinic)
    if not form.is_valid():
        return _page(request, form=form)
    if form.cleaned_data["base_revision"] != current.pk:
        # Another save came first: these values are kept, compared with it, for a second look.
        data = request.POST.copy()
        data["base_revision"] = str(current.pk)
        form = ChecklistForm(data, revision=current, clinic=clinic)
        form.is_valid()
        form.add_error(None, _("Revision %(number)s was saved while you were editing. Your "
                               "values are kept below; check them and save again.")
                       % {"number": current.number})
        return _page(request, form=form)
    changes = form.changes()
    if not changes:
        messages.info(request, _("Nothing changed: revision %(number)s stays current.")
                      % {"number": current.number})
        return redirect("qa:checklist")
    try:
        revision = checklist_revision_save(clinic=clinic, by=request.user, changes=changes,
                                           now=clock.now(), based_on=current)
    except QaRefused as refused:
        form.add_error(None, str(refused))
        return _page(request, form=form)
    messages.success(request, _("Saved as revision %(number)s — new dialogues are scored with "
                                "it; earlier scorecards keep their revision.")
                     % {"number": revision.number})
    return redirect("qa:checklist")


@require_POST
@clinic_view(Role.OWNER)
def checklist_settings(request: HttpRequest) -> HttpResponse:
    """The review queue's threshold and random share, and the override reasons."""
    form = QaSettingsForm(request.POST, settings=qa_settings_get(clinic=request.clinic))
    if form.is_valid():
        try:
            qa_settings_update(clinic=request.clinic, changed_by=request.user,
                               changes=form.cleaned_data, now=clock.now())
        except QaRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Quality settings saved."))
            return redirect("qa:checklist")
    return _page(request, settings_form=form)


@clinic_view(Role.MANAGER)
def checklist_revision(request: HttpRequest, revision_id: int) -> HttpResponse:
    """One revision, read-only: what scorecards scored with it were scored against."""
    try:
        items = Prefetch("items", queryset=ChecklistItem.objects.order_by("position", "id"))
        revision = _revisions(request.clinic).prefetch_related(items).get(pk=revision_id)
    except ChecklistRevision.DoesNotExist:
        raise Http404 from None
    _parameters(request.clinic, revision)
    return render(request, "qa/checklist_revision.html", {"revision": revision})


@require_POST
@clinic_view(Role.MANAGER)
def rescore(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """Score the dialogue again with the revision the button named: a new current scorecard;
    this one stays in history, linked from the new one."""
    try:
        card = scorecard_get_for_user(user=request.user, clinic=request.clinic, pk=scorecard_id)
    except Scorecard.DoesNotExist:
        raise Http404 from None
    form = RescoreForm(request.POST, clinic=request.clinic)
    if not form.is_valid():
        messages.error(request, _("Choose a revision of this clinic's checklist."))
        return redirect("qa:scorecard", card.pk)
    try:
        new = scorecard_rescore(scorecard=card, revision=form.cleaned_data["revision"],
                                by=request.user, now=clock.now())
    except QaRefused as refused:
        messages.error(request, str(refused))
        return redirect("qa:scorecard", card.pk)
    messages.success(request, _("Scored again with revision %(number)s; the earlier scorecard "
                                "stays in history.") % {"number": new.revision.number})
    return redirect("qa:scorecard", new.pk)
