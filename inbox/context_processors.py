from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from inbox.selectors import notification_bell


def bell(request: HttpRequest) -> dict[str, Any]:
    """The notification bell of the top bar; queried only when a page shows it."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {"bell": SimpleLazyObject(
        lambda: notification_bell(user=request.user, clinic=membership.clinic))}
