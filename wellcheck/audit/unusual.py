"""Unusual-access rules over the audit trail: who read more, or other, than their work explains.

The rules, stated here and in docs/adr/0004-audit-chain.md (thresholds are the constants below):

``volume``
    An actor read more distinct records (checks or persons; consultation and disclosure events)
    than ``VOLUME_FACTOR`` times the median of their peers (same agency and role, at least
    ``VOLUME_MIN_PEERS`` other peers who read anything) and at least ``VOLUME_MIN_READS``.
``outside_unit``
    An actor with a home unit read a check, or a person, whose checks all belong to units outside
    the actor's unit and the units below it. Agency-wide roles (no home unit) are not flagged.
``break_glass``
    An actor used emergency access (event types in :data:`BREAK_THE_GLASS_EVENT_TYPES`) at least
    ``BREAK_GLASS_MAX`` times in the period.
``refused``
    An actor was refused (``access.denied``: a 403 or 404 answered to a signed-in actor, most
    often a record outside their scope) at least ``REFUSED_MAX`` times in the period: probing.
``same_surname``
    An actor read a person whose surname sounds like the actor's own: the person's stored
    ``family_phonetic_key`` blind index is compared with the same index computed from the actor's
    ``last_name``. No person's name is decrypted (done only where that index exists).

Not covered: reads outside the actor's shift (WellCheck holds no rosters) and persons sharing the
actor's address (WellCheck holds no staff addresses). Each finding lists the events behind it
(their ``seq``), so the auditor can open them.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.utils import timezone

from wellcheck.accounts.models import Agency, User
from wellcheck.audit import selectors
from wellcheck.audit.events import Category, EventType, Outcome
from wellcheck.audit.models import AuditEvent, UnusualAccessReport
from wellcheck.audit.services import audit_record

VOLUME_FACTOR = 3.0
VOLUME_MIN_READS = 20
VOLUME_MIN_PEERS = 2
BREAK_GLASS_MAX = 3
REFUSED_MAX = 10
# Emergency-access event types. Matched by value, so a type named differently later is added here.
BREAK_THE_GLASS_EVENT_TYPES: tuple[str, ...] = ("break_glass.opened",)
READ_CATEGORIES = (Category.CONSULTATION, Category.DISCLOSURE)
CHECK, PERSON = "checks.wellnesscheck", "people.person"
Read = tuple[int, Any, str, str]  # (seq, actor id, target type, target id)
MAX_SEQS = 200  # events listed per finding

RULES: dict[str, str] = {
    "volume": f"read over {VOLUME_FACTOR:g}x the peer median of distinct records "
    f"(and at least {VOLUME_MIN_READS})",
    "outside_unit": "read a record of a unit outside the actor's own units",
    "break_glass": f"used emergency access {BREAK_GLASS_MAX} or more times",
    "same_surname": "read a person whose surname sounds like the actor's (blind index)",
    "refused": f"refused access (403/404) {REFUSED_MAX} or more times",
}


def _finding(
    rule: str, actor: User | None, actor_id: int, summary: str, seqs: list[int]
) -> dict[str, Any]:
    return {
        "rule": rule,
        "rule_text": RULES[rule],
        "actor_id": actor_id,
        "actor_name": actor.username if actor else str(actor_id),
        "summary": summary,
        "count": len(seqs),
        "seqs": sorted(seqs)[:MAX_SEQS],
    }


def find_unusual(*, agency_id: Any, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Every finding of every rule for one agency and period (read-only)."""
    events = AuditEvent.objects.filter(
        agency_id=agency_id, occurred_at__gte=start, occurred_at__lt=end, actor_id__isnull=False
    )
    reads = list(
        events.filter(category__in=READ_CATEGORIES, outcome=Outcome.SUCCESS)
        .exclude(event_type__in=BREAK_THE_GLASS_EVENT_TYPES)
        .values_list("seq", "actor_id", "target_type", "target_id")
    )
    glass = list(
        events.filter(event_type__in=BREAK_THE_GLASS_EVENT_TYPES).values_list("seq", "actor_id")
    )
    refused = list(events.filter(event_type=EventType.ACCESS_DENIED).values_list("seq", "actor_id"))
    actor_ids = {r[1] for r in reads} | {g[1] for g in glass} | {r[1] for r in refused}
    actors = {
        u.pk: u
        for u in User.objects.filter(pk__in=[a for a in actor_ids if a], agency_id=agency_id)
    }
    findings = _volume(reads, actors) + _outside_unit(reads, actors) + _break_glass(glass, actors)
    return findings + _same_surname(reads, actors) + _refused(refused, actors)


def _volume(reads: list[Read], actors: dict[int, User]) -> list[dict[str, Any]]:
    targets: dict[int, set[tuple[str, str]]] = defaultdict(set)
    seqs: dict[int, list[int]] = defaultdict(list)
    for seq, actor_id, ttype, tid in reads:
        if ttype and tid:
            targets[actor_id].add((ttype, tid))
            seqs[actor_id].append(seq)
    by_role: dict[str, list[int]] = defaultdict(list)
    for actor_id in targets:
        if actor_id in actors:
            by_role[actors[actor_id].role].append(actor_id)
    out = []
    for members in by_role.values():
        for actor_id in members:
            peers = [len(targets[p]) for p in members if p != actor_id]
            if len(peers) < VOLUME_MIN_PEERS:
                continue
            median = statistics.median(peers)
            mine = len(targets[actor_id])
            if mine >= VOLUME_MIN_READS and mine > VOLUME_FACTOR * median:
                summary = f"{mine} distinct records read; peer median {median:g}"
                out.append(_finding("volume", actors[actor_id], actor_id, summary, seqs[actor_id]))
    return out


def _outside_unit(reads: list[Read], actors: dict[int, User]) -> list[dict[str, Any]]:
    check_ids = {tid for _, _, ttype, tid in reads if ttype == CHECK}
    person_ids = {tid for _, _, ttype, tid in reads if ttype == PERSON}
    units = selectors.check_units(check_ids)
    units.update(selectors.person_units(person_ids))
    outside: dict[int, list[int]] = defaultdict(list)
    for seq, actor_id, ttype, tid in reads:
        actor = actors.get(actor_id)
        if actor is None or actor.unit_id is None or ttype not in (CHECK, PERSON):
            continue
        record_units = units.get(tid)
        if record_units and not record_units & set(actor.scope_unit_ids()):
            outside[actor_id].append(seq)
    return [
        _finding("outside_unit", actors[a], a, f"{len(s)} read(s) of records of other units", s)
        for a, s in outside.items()
    ]


def _break_glass(glass: list[tuple[int, Any]], actors: dict[int, User]) -> list[dict[str, Any]]:
    uses: dict[int, list[int]] = defaultdict(list)
    for seq, actor_id in glass:
        uses[actor_id].append(seq)
    return [
        _finding("break_glass", actors.get(a), a, f"{len(s)} emergency accesses", s)
        for a, s in uses.items()
        if len(s) >= BREAK_GLASS_MAX
    ]


def _refused(refused: list[tuple[int, Any]], actors: dict[int, User]) -> list[dict[str, Any]]:
    attempts: dict[int, list[int]] = defaultdict(list)
    for seq, actor_id in refused:
        attempts[actor_id].append(seq)
    return [
        _finding("refused", actors.get(a), a, f"{len(s)} refused attempts", s)
        for a, s in attempts.items()
        if len(s) >= REFUSED_MAX
    ]


def _same_surname(reads: list[Read], actors: dict[int, User]) -> list[dict[str, Any]]:
    person_of = selectors.check_persons({tid for _, _, t, tid in reads if t == CHECK})
    persons = {tid for _, _, t, tid in reads if t == PERSON} | set(person_of.values())
    keys = selectors.person_surname_keys(persons)
    if keys is None:  # no surname blind index in this installation
        return []
    hits: dict[int, list[int]] = defaultdict(list)
    for seq, actor_id, ttype, tid in reads:
        actor = actors.get(actor_id)
        mine = selectors.surname_key(actor.last_name) if actor is not None else ""
        person = tid if ttype == PERSON else person_of.get(tid)
        if mine and person and keys.get(person) == mine:
            hits[actor_id].append(seq)
    return [
        _finding("same_surname", actors[a], a, f"{len(s)} read(s) of a same-surname person", s)
        for a, s in hits.items()
    ]


def run_unusual_access(
    *, agency_id: Any, start: dt.datetime, end: dt.datetime, actor: User | None = None
) -> UnusualAccessReport:
    """Run every rule, store the report, and record that the trail was read for it."""
    findings = find_unusual(agency_id=agency_id, start=start, end=end)
    report = UnusualAccessReport.objects.create(
        agency_id=agency_id,
        period_start=start,
        period_end=end,
        created_at=timezone.now(),
        findings=findings,
    )
    audit_record(
        actor=actor,
        event_type=EventType.AUDIT_READ,
        component="web" if actor else "task",
        agency_id=agency_id,
        target=report,
        details={"report": "unusual_access", "findings": len(findings)},
    )
    return report


def run_for_all_agencies(*, start: dt.datetime, end: dt.datetime) -> list[UnusualAccessReport]:
    return [
        run_unusual_access(agency_id=agency_id, start=start, end=end)
        for agency_id in Agency.objects.values_list("pk", flat=True)
    ]
