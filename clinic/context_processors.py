from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clinic.models import Role
from clinic.selectors import membership_list_for_user

# (url name, label, least role); the server enforces the same roles in each view.
NAVIGATION = (
    ("inbox:index", _("Inbox"), Role.ADMINISTRATOR),
    ("scheduling:calendar", _("Calendar"), Role.ADMINISTRATOR),
    ("qa:index", _("Quality"), Role.MANAGER),
    ("inbox:quick-replies", _("Quick replies"), Role.MANAGER),
    ("campaigns:index", _("Campaigns"), Role.MANAGER),
    ("clinic:settings", _("Settings"), Role.OWNER),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    items = []
    for url_name, label, role in NAVIGATION:
        if membership.has_role(role):
            url = reverse(url_name)
            items.append((url, label, request.path.startswith(url)))
    return {
        "nav_items": items,
        # Loaded by CurrentClinicMiddleware, with the current one.
        "user_memberships": getattr(request, "memberships", None)
        or membership_list_for_user(user=request.user),
    }
