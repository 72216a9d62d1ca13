"""Earlier checks at the same address: what a responder should know before knocking.

Matching is on ``CheckDetail.address_key``, the blind index of the normalised block address
(``wellcheck.core.blind.address_key``), never on the plaintext. Only identifying records have an
address, so tallies never match. Reads go through the door: the actor sees only the earlier
checks their ``check.view_identity`` scope covers (an officer: their unit's), nothing else, and
the page that shows them is where the identifying read is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from wellcheck.accounts.permissions import Action
from wellcheck.checks.models import CheckDetail, WellnessCheck

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same wall-clock time ``months`` calendar months earlier (day clipped to month end)."""
    month0 = moment.month - 1 - months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


def prior_checks_at_address(
    *, actor: User, check: WellnessCheck, months: int = 12
) -> QuerySet[WellnessCheck]:
    """Checks at the same address received in the ``months`` before ``check``, newest first,
    within the actor's access. Empty for a tally or a check without an address."""
    key = (
        CheckDetail.objects.filter(check_record_id=check.pk)
        .values_list("address_key", flat=True)
        .first()
    )
    if not key:
        return WellnessCheck.objects.none()
    since = months_before(check.received_at, months)
    return (
        WellnessCheck.objects.restrict(actor, Action.CHECK_VIEW_IDENTITY)
        .filter(
            detail__address_key=key,
            received_at__gte=since,
            received_at__lte=check.received_at,
        )
        .exclude(pk=check.pk)
        .select_related("unit", "outcome")
        .order_by("-received_at")
    )
