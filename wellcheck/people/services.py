"""Writes to persons and consent. Consent decides, in a ``consent_only`` agency, whether a person's
identity may be kept at all: withdrawal or lapse turns their checks back into tallies.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wellcheck.accounts.models import Agency, RecordPolicy, User
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.checks.inputs import ConsentInput, PersonInput
from wellcheck.core.errors import InvalidTransition, ServiceError
from wellcheck.crypto.blind import alias_indexes
from wellcheck.people.models import Consent, ConsentScope, Person, PersonAliasKey


def person_record_at_check(
    *,
    actor: User,
    agency: Agency,
    existing: Person | None,
    person: PersonInput,
    consent: ConsentInput | None,
) -> Person:
    """Create or update the person named on a check, and record the consent taken there.
    Called inside the check service's transaction (its audit event covers the collection)."""
    if person.date_of_birth and person.date_of_birth > timezone.localdate():
        raise ServiceError("The date of birth is in the future.", field="date_of_birth")
    target = existing or Person(agency=agency)
    target.given_name = person.given_name.strip()
    target.family_name = person.family_name.strip()
    target.date_of_birth = person.date_of_birth
    target.aliases = [a.strip() for a in person.aliases if a.strip()]
    target.save()
    if existing is not None or target.aliases:
        person_alias_keys_sync(person=target)
    if consent is not None:
        for scope in consent.scopes:
            if not target.consents.active().filter(scope=scope).exists():
                _consent_create(actor=actor, person=target, scope=scope, consent=consent)
    return target


def person_alias_keys_sync(*, person: Person) -> None:
    """Rebuild the blind indexes of the person's aliases (``PersonAliasKey``) from its aliases.
    Call it in the transaction that writes ``person.aliases``."""
    PersonAliasKey.objects.filter(person=person).delete()
    rows = []
    for alias in person.aliases or []:
        keys = alias_indexes(str(alias))
        if keys["name_key"]:
            rows.append(PersonAliasKey(person=person, **keys))
    PersonAliasKey.objects.bulk_create(rows)


def _consent_create(*, actor: User, person: Person, scope: str, consent: ConsentInput) -> Consent:
    if scope not in ConsentScope.values:
        raise ServiceError(f"Unknown consent scope: {scope}.", field="consent_scopes")
    if scope == ConsentScope.SHARE_WITH_SERVICE and not consent.service_name.strip():
        raise ServiceError(
            "Name the service the person agreed to share with.", field="service_name"
        )
    taken_at = consent.taken_at or timezone.now()
    if taken_at > timezone.now() + dt.timedelta(minutes=5):
        raise ServiceError("Consent cannot be taken in the future.", field="consent_taken_at")
    valid_days = Agency.objects.values_list("consent_valid_days", flat=True).get(
        pk=person.agency_id
    )
    expires_at = taken_at + dt.timedelta(days=valid_days)
    row = Consent.objects.create(
        person=person,
        scope=scope,
        service_name=consent.service_name.strip(),
        method=consent.method,
        taken_by=actor,
        taken_at=taken_at,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        event_type=EventType.CONSENT_RECORDED,
        target=person,
        details={"scope": scope, "method": consent.method, "expires_at": expires_at.isoformat()},
    )
    return row


@transaction.atomic
def consent_record(*, actor: User, person: Person, consent: ConsentInput) -> list[Consent]:
    """Record (or renew) consent for each scope given; renewal replaces the active row's expiry."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    rows = []
    for scope in consent.scopes:
        for old in person.consents.active().filter(scope=scope):
            old.withdrawn_at = timezone.now()
            old.save(update_fields=["withdrawn_at"])
        rows.append(_consent_create(actor=actor, person=person, scope=scope, consent=consent))
    return rows


@transaction.atomic
def consent_withdraw(*, actor: User, consent: Consent) -> bool:
    """Withdraw one consent. Returns True when the person was de-identified as a result."""
    consent = Consent.objects.select_for_update().select_related("person").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise InvalidTransition("This consent was already withdrawn.", field="consent")
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    person = consent.person
    audit_record(
        actor=actor,
        event_type=EventType.CONSENT_WITHDRAWN,
        target=person,
        details={"scope": consent.scope},
    )
    return _deidentify_if_required(actor=actor, person=person)


def _deidentify_if_required(
    *, actor: User | None, person: Person, at: dt.datetime | None = None
) -> bool:
    agency = Agency.objects.get(pk=person.agency_id)
    if agency.record_policy != RecordPolicy.CONSENT_ONLY:
        return False
    if person.consents.active(at).filter(scope=ConsentScope.ONGOING_SUPPORT).exists():
        return False
    person_deidentify(actor=actor, person=person)
    return True


@transaction.atomic
def person_deidentify(*, actor: User | None, person: Person) -> int:
    """Turn every check of the person into a tally and delete the person. Returns checks changed."""
    from wellcheck.checks.models import CheckDetail, RecordMode, WellnessCheck

    component = "job" if actor is None else "web"  # no actor: the daily consent sweep
    details = list(CheckDetail.objects.select_for_update().filter(person=person))
    check_ids = [d.check_record_id for d in details]
    for check in WellnessCheck.objects.select_for_update().filter(pk__in=check_ids):
        check.record_mode = RecordMode.TALLY
        check.received_at = check.received_at.replace(minute=0, second=0, microsecond=0)
        check.save(update_fields=["record_mode", "received_at", "updated_at"])
        audit_record(
            actor=actor,
            event_type=EventType.CHECK_DEIDENTIFIED,
            target=check,
            agency_id=check.agency_id,
            component=component,
        )
    CheckDetail.objects.filter(pk__in=check_ids).delete()
    person_id = person.pk
    person.delete()
    audit_record(
        actor=actor,
        event_type=EventType.CHECK_DEIDENTIFIED,
        target_type="people.person",
        target_id=str(person_id),
        agency_id=person.agency_id,
        details={"checks": len(check_ids)},
        component=component,
    )
    return len(check_ids)


def person_delete_if_orphaned(*, person_id: uuid.UUID) -> None:
    """Delete a person no check refers to any more, in a ``consent_only`` agency."""
    person = Person.objects.filter(pk=person_id).first()
    if person is None or person.check_details.exists():
        return
    if person.agency.record_policy == RecordPolicy.CONSENT_ONLY:
        person.delete()


@transaction.atomic
def consent_lapse_sweep(*, now: dt.datetime | None = None) -> int:
    """Daily job: consents past their expiry lapse; persons left without ongoing-support consent in
    a ``consent_only`` agency are de-identified. Returns the number of persons de-identified."""
    now = now or timezone.now()
    lapsed = list(
        Consent.objects.select_for_update()
        .filter(withdrawn_at__isnull=True, lapsed_at__isnull=True, expires_at__lte=now)
        .select_related("person")
    )
    persons = {c.person_id: c.person for c in lapsed}
    for consent in lapsed:
        consent.lapsed_at = now
        consent.save(update_fields=["lapsed_at"])
        audit_record(
            actor=None,
            event_type=EventType.CONSENT_LAPSED,
            target=consent.person,
            agency_id=consent.person.agency_id,
            details={"scope": consent.scope},
            component="job",
        )
    done = 0
    for person in persons.values():
        if _deidentify_if_required(actor=None, person=person, at=now):
            done += 1
    return done


@transaction.atomic
def person_erase(*, actor: User | None, person: Person, reason: str) -> int:
    """Erase a person by crypto-shredding: their checks become tallies (statistics survive), the
    person row goes, and their data key is destroyed, so every copy of their encrypted data
    (sealed records, backups) becomes unreadable. With ``WELLCHECK_SHRED_KEK_ROLL=immediate``
    the key-encryption key is rolled after commit, which also kills the wrapped copy of the data
    key held in older backups. Returns the number of checks turned into tallies."""
    from wellcheck.crypto import keyring
    from wellcheck.crypto.scopes import person_scope

    if not reason.strip():
        raise ServiceError("Give the reason for the erasure.", field="reason")
    person = Person.objects.select_for_update().get(pk=person.pk)
    person_id, agency_id = person.pk, person.agency_id
    checks = person_deidentify(actor=actor, person=person)
    destroyed = keyring.destroy_scope(person_scope(person_id))
    audit_record(
        actor=actor,
        event_type=EventType.PERSON_ERASED,
        target_type="people.person",
        target_id=str(person_id),
        agency_id=agency_id,
        reason=reason,
        details={"checks_kept_as_tallies": checks, "data_keys_destroyed": destroyed},
    )
    if getattr(settings, "WELLCHECK_SHRED_KEK_ROLL", "immediate") == "immediate":
        transaction.on_commit(_roll_kek)
    return checks


def _roll_kek() -> None:
    from wellcheck.crypto.rotation import roll_kek_after_shred

    report = roll_kek_after_shred()
    audit_record(
        actor=None,
        event_type=EventType.KEYS_ROTATED,
        component="job",
        details={
            "new_kek": report.new_kek,
            "rewrapped": report.rewrapped,
            "kek_destroyed": report.kek_destroyed,
            "why": "erasure",
        },
    )
