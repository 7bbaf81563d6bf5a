"""Who may see what: the one access helper every view and API endpoint goes through.

A signed-in user acts in one clinic at a time (the session's current clinic). Every query for
clinic data is filtered by that clinic; a role check guards what needs more than an administrator.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.permissions import BasePermission

from clinic.models import Membership, Role

SESSION_CLINIC_KEY = "clinic_id"
API_CLINIC_HEADER = "X-Clinic-Id"


def membership_resolve(*, user: Any, clinic_id: int | str | None) -> Membership | None:
    """The user's membership in `clinic_id`, or in their first clinic when none is asked for."""
    if not user or not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("clinic")
    if clinic_id not in (None, ""):
        try:
            return memberships.filter(clinic_id=int(clinic_id)).first()
        except (TypeError, ValueError):
            return None
    return memberships.first()


def clinic_view(role: str = Role.ADMINISTRATOR) -> Callable:
    """Decorator for views: signed in, a member of the current clinic, with at least `role`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None:
                return render(request, "clinic/no_clinic.html", status=403)
            if not membership.has_role(role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasClinicRole(BasePermission):
    """DRF permission: the same rule for the API. Views may set `required_role`.

    The clinic comes from the X-Clinic-Id header, else the session's current clinic, else the
    user's first clinic. The resolved membership is put on the request for the view's queries.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        clinic_id = request.headers.get(API_CLINIC_HEADER)
        if clinic_id is None and hasattr(request, "session"):
            clinic_id = request.session.get(SESSION_CLINIC_KEY)
        membership = membership_resolve(user=request.user, clinic_id=clinic_id)
        if membership is None:
            return False
        request.membership = membership
        return membership.has_role(getattr(view, "required_role", Role.ADMINISTRATOR))
