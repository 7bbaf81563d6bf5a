from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from clinic.access import SESSION_CLINIC_KEY, membership_resolve


class CurrentClinicMiddleware:
    """Puts the signed-in user's current clinic membership on the request (or None)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None
        if request.user.is_authenticated:
            wanted = request.session.get(SESSION_CLINIC_KEY)
            membership = membership_resolve(user=request.user, clinic_id=wanted)
            if membership is None and wanted is not None:
                membership = membership_resolve(user=request.user, clinic_id=None)
            request.membership = membership
        request.clinic = request.membership.clinic if request.membership else None
        return self.get_response(request)
