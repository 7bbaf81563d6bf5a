"""Who may do what in quality, and the errors the services raise for people to read."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from clinic.models import Membership, Role


class QaRefused(ValueError):
    """The change is not possible as asked; the message is for the person."""


class QaForbidden(PermissionDenied):
    """The person's role (or their relation to the scorecard) does not allow it."""


def role_require(*, user: object, clinic_id: int, role: str) -> Membership:
    """The user's membership of the clinic when it has at least `role`; QaForbidden else."""
    membership = None
    if getattr(user, "pk", None) is not None:
        membership = Membership.objects.filter(user=user, clinic_id=clinic_id).first()
    if membership is None or not membership.has_role(role):
        raise QaForbidden(_("Only the clinic's owner can do this.") if role == Role.OWNER
                          else _("Only a manager or the clinic's owner can do this."))
    return membership
