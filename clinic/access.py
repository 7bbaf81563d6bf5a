"""Who may see what: the one access helper every view and API endpoint goes through.

A signed-in user acts in one clinic at a time (the session's current clinic). Every query for
clinic data is filtered by that clinic; a role check guards what needs more than an administrator.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from clinic import clock
from clinic.models import ROLE_RANK, ApiToken, Clinic, Membership, Role
from clinic.services import api_token_authenticate

SESSION_CLINIC_KEY = "clinic_id"
API_CLINIC_HEADER = "X-Clinic-Id"

INTEGRATION_ROLE = Role.MANAGER
"""What a clinic API token may do: what a manager may (read everything of its clinic, book and
move appointments, keep doctors, services and schedules), never what only an owner may."""


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


@dataclass(frozen=True)
class Integration:
    """`request.user` for a request made with a clinic API token: no person, one clinic."""

    token: ApiToken
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    @property
    def username(self) -> str:
        return f"api:{self.token.name}"

    def get_username(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


@dataclass(frozen=True)
class IntegrationAccess:
    """Membership-like `request.membership` for a clinic API token: its clinic, a fixed role."""

    clinic: Clinic
    token: ApiToken
    role: str = INTEGRATION_ROLE

    @property
    def clinic_id(self) -> int:
        return self.clinic.pk

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


def staff_user(request: Any) -> Any | None:
    """The person behind a request, for `created_by` and the like; None for an integration."""
    user = getattr(request, "user", None)
    return None if isinstance(user, Integration) or not getattr(user, "pk", None) else user


class ClinicTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer cit_…`: a clinic's API token (see clinic.models.ApiToken).

    Other Authorization headers are left to the next authentication class, so a person's own
    DRF token (`Token …`) and the browser session keep working.
    """

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Integration, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after “Bearer ”."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token.")) from None
        token = api_token_authenticate(secret=secret, now=clock.now())
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return Integration(token), token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'


class HasClinicRole(BasePermission):
    """DRF permission: the same rule for the API. Views may set `required_role`.

    A clinic API token acts in its own clinic with INTEGRATION_ROLE (an X-Clinic-Id naming
    another clinic is refused). For a person the clinic comes from the X-Clinic-Id header, else
    the session's current clinic, else the user's first clinic. The resolved membership is put
    on the request for the view's queries.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        required = getattr(view, "required_role", Role.ADMINISTRATOR)
        if isinstance(request.auth, ApiToken):
            wanted = request.headers.get(API_CLINIC_HEADER)
            if wanted not in (None, "", str(request.auth.clinic_id)):
                return False
            request.membership = IntegrationAccess(clinic=request.auth.clinic,
                                                   token=request.auth)
            return request.membership.has_role(required)
        clinic_id = request.headers.get(API_CLINIC_HEADER)
        if clinic_id is None and hasattr(request, "session"):
            clinic_id = request.session.get(SESSION_CLINIC_KEY)
        membership = membership_resolve(user=request.user, clinic_id=clinic_id)
        if membership is None:
            return False
        request.membership = membership
        return membership.has_role(required)
