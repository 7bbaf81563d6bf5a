"""The owner's CSV import page: upload, preview (a dry run), confirm, result; sample files.

The uploaded bytes wait for the confirmation in the session (compressed), under a token the
confirm form carries and bound to the clinic they were previewed for; nothing goes to disk.
The confirmation imports them afresh, all or nothing, so whatever changed since the preview
(a slot booked meanwhile, say) is caught and nothing is written.
"""

import base64
import secrets
import zlib
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinic import clock
from clinic.access import clinic_view
from clinic.models import Role
from scheduling.imports import (
    IMPORTERS,
    KINDS,
    MAX_BYTES,
    ImportFile,
    ImportReport,
    csv_import,
    sample_csv,
)

SESSION_KEY = "csv_import"
PREVIEW_ROWS = 200
"""Rows listed per file in the preview; every problem is listed whatever the count."""


class ImportForm(forms.Form):
    doctors = forms.FileField(label=_("Doctors"), required=False)
    services = forms.FileField(label=_("Services"), required=False)
    patients = forms.FileField(label=_("Patients"), required=False)
    appointments = forms.FileField(label=_("Appointments"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen = [kind for kind in KINDS if cleaned.get(kind)]
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Choose at least one file."))
        for kind in chosen:
            if cleaned[kind].size > MAX_BYTES:
                self.add_error(kind, _("The file is larger than %(mb)d MB.")
                               % {"mb": MAX_BYTES // (1024 * 1024)})
        return cleaned

    def import_files(self) -> dict[str, ImportFile]:
        files: dict[str, ImportFile] = {}
        for kind in KINDS:
            upload: UploadedFile | None = self.cleaned_data.get(kind)
            if upload:
                files[kind] = ImportFile(name=(upload.name or kind)[:200], data=upload.read())
        return files


def _stash(request: HttpRequest, files: dict[str, ImportFile]) -> str:
    token = secrets.token_urlsafe(16)
    request.session[SESSION_KEY] = {
        "token": token,
        "clinic": request.clinic.pk,
        "files": {kind: {"name": f.name,
                         "data": base64.b64encode(zlib.compress(f.data)).decode("ascii")}
                  for kind, f in files.items()},
    }
    return token


def _unstash(request: HttpRequest, token: str) -> dict[str, ImportFile] | None:
    stash = request.session.pop(SESSION_KEY, None)
    if not stash or not token or not secrets.compare_digest(stash["token"], token) or (
            stash["clinic"] != request.clinic.pk):
        return None
    return {kind: ImportFile(name=f["name"], data=zlib.decompress(base64.b64decode(f["data"])))
            for kind, f in stash["files"].items()}


def _kinds_reference() -> list[dict[str, Any]]:
    return [{"kind": kind, "label": importer.label,
             "columns": [c for c in importer.columns if c.help]}
            for kind, importer in IMPORTERS.items()]


def _page(request: HttpRequest, *, form: ImportForm, report: ImportReport | None = None,
          token: str = "", status: int = 200) -> HttpResponse:
    return render(request, "scheduling/import.html", {
        "tab": "import", "form": form, "report": report, "token": token,
        "kinds": _kinds_reference(), "preview_rows": PREVIEW_ROWS,
    }, status=status)


@clinic_view(Role.OWNER)
def import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: a preview of the uploaded files, and a confirm button when
    they are clean."""
    if request.method != "POST":
        return _page(request, form=ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    files = form.import_files()
    report = csv_import(clinic=request.clinic, files=files, by=request.user, now=clock.now(),
                        dry_run=True)
    request.session.pop(SESSION_KEY, None)
    token = _stash(request, files) if report.ok else ""
    return _page(request, form=ImportForm(), report=report, token=token)


@require_POST
@clinic_view(Role.OWNER)
def import_confirm(request: HttpRequest) -> HttpResponse:
    files = _unstash(request, request.POST.get("token", ""))
    if files is None:
        messages.error(request, _("This preview has expired or was replaced by another one: "
                                  "upload the files again."))
        return redirect("clinic:settings-import")
    report = csv_import(clinic=request.clinic, files=files, by=request.user, now=clock.now(),
                        dry_run=False)
    if not report.applied:
        messages.error(request, _("Nothing was imported: the clinic's data changed since the "
                                  "preview. The problems are below."))
        return _page(request, form=ImportForm(), report=report, status=409)
    for file in report.files:
        messages.success(request, _("%(kind)s imported (%(name)s): %(summary)s.") % {
            "kind": file.kind_label, "name": file.name, "summary": file.result_summary})
    return redirect("clinic:settings-import")


@clinic_view(Role.OWNER)
def import_sample(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    today = clock.now().astimezone(ZoneInfo(request.clinic.timezone)).date()
    data = sample_csv(kind=kind, language=get_language() or "ru", today=today)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response
