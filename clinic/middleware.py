from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from clinic.access import SESSION_CLINIC_KEY
from clinic.selectors import membership_list_for_user


class CurrentClinicMiddleware:
    """Puts the signed-in user's memberships on the request, and the current one (or None): in
    the session's clinic, else in their first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.memberships = []
        request.membership = None
        if request.user.is_authenticated:
            # A person belongs to a few clinics: one query serves the current one and the clinic
            # switcher that every page shows.
            request.memberships = list(membership_list_for_user(user=request.user))
            wanted = str(request.session.get(SESSION_CLINIC_KEY))
            request.membership = next(
                (m for m in request.memberships if str(m.clinic_id) == wanted),
                request.memberships[0] if request.memberships else None)
        request.clinic = request.membership.clinic if request.membership else None
        return self.get_response(request)
