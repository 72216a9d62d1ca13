"""From parsed API input to the services' typed :class:`CheckInput`.

``PUT`` replaces every field (omitted ones become empty); ``PATCH`` keeps the stored value of each
omitted field. In both, an omitted ``consent`` carries forward the person's active consent, so that
editing an identifying record in a ``consent_only`` agency does not silently turn it into a tally
(consent is withdrawn through the consent services, which de-identify on purpose).
"""

from __future__ import annotations

from typing import Any

from wellcheck.checks.inputs import CheckInput, ConsentInput, PersonInput
from wellcheck.checks.models import CheckDetail, WellnessCheck
from wellcheck.people.models import ConsentScope

_RENAMED = {"unit": "unit_id", "responders": "responder_ids"}
_TUPLES = {"reasons", "observed", "referrals", "responder_ids"}


def stored_values(check: WellnessCheck) -> dict[str, Any]:
    """The check as serializer-shaped input values (for PATCH)."""
    values: dict[str, Any] = {
        "unit": check.unit_id,
        "received_at": check.received_at,
        "initiator": check.initiator.code if check.initiator else "",
        "triage": check.triage.code if check.triage else "",
        "outcome": check.outcome.code if check.outcome else "",
        "reasons": [c.code for c in check.reasons.all()],
        "observed": [c.code for c in check.observed.all()],
        "referrals": [c.code for c in check.referrals.all()],
        "caller_told": check.caller_told,
        "co_responder_present": check.co_responder_present,
        "mental_health_related": check.mental_health_related,
    }
    detail = CheckDetail.objects.filter(check_record=check).select_related("person").first()
    if detail is None:
        return values
    for name in (
        "incident_number",
        "address",
        "latitude",
        "longitude",
        "triage_rationale",
        "dispatched_at",
        "arrived_at",
        "cleared_at",
        "narrative",
    ):
        values[name] = getattr(detail, name)
    values["responders"] = [u.pk for u in detail.responders.all()]
    if detail.person is not None:
        p = detail.person
        values["person"] = {
            "given_name": p.given_name,
            "family_name": p.family_name,
            "date_of_birth": p.date_of_birth,
            "aliases": list(p.aliases),
        }
    return values


def carried_consent(check: WellnessCheck) -> ConsentInput | None:
    """The active consent scopes of the check's person, or None."""
    detail = CheckDetail.objects.filter(check_record=check).select_related("person").first()
    if detail is None or detail.person is None:
        return None
    scopes = tuple(sorted(set(detail.person.consents.active().values_list("scope", flat=True))))
    if ConsentScope.ONGOING_SUPPORT not in scopes:
        return None
    return ConsentInput(scopes=scopes)


def to_check_input(
    data: dict[str, Any], *, base: dict[str, Any] | None = None, carried: ConsentInput | None = None
) -> CheckInput:
    """Build the typed input. ``base`` holds stored values that ``data`` overrides (PATCH)."""
    merged = dict(base or {})
    for key, value in data.items():
        if key == "person" and isinstance(merged.get("person"), dict) and value is not None:
            merged["person"] = {**merged["person"], **value}
        else:
            merged[key] = value
    kwargs: dict[str, Any] = {}
    for key, value in merged.items():
        if key in ("person", "consent"):
            continue
        name = _RENAMED.get(key, key)
        if value is None and name in (
            "incident_number",
            "address",
            "triage_rationale",
            "narrative",
            "initiator",
            "triage",
            "outcome",
        ):
            value = ""
        if name in _TUPLES:
            value = tuple(value or ())
        if name == "mental_health_related":
            value = bool(value)
        kwargs[name] = value
    person = merged.get("person") or {}
    kwargs["person"] = PersonInput(
        given_name=person.get("given_name") or "",
        family_name=person.get("family_name") or "",
        date_of_birth=person.get("date_of_birth"),
        aliases=tuple(person.get("aliases") or ()),
    )
    consent = data.get("consent")
    if consent is not None:
        kwargs["consent"] = ConsentInput(
            scopes=tuple(consent.get("scopes") or (ConsentScope.ONGOING_SUPPORT,)),
            method=consent.get("method") or "verbal",
            taken_at=consent.get("taken_at"),
            service_name=consent.get("service_name") or "",
        )
    else:
        kwargs["consent"] = carried
    return CheckInput(**kwargs)
