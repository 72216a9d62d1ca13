"""Typed input for recording a check: what forms, the API and the importer hand to services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class PersonInput:
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    aliases: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.given_name or self.family_name or self.date_of_birth or self.aliases)


@dataclass(frozen=True)
class ConsentInput:
    """Consent taken at the scene; ``ongoing_support`` keeps the record, other scopes add to it."""

    scopes: tuple[str, ...] = ("ongoing_support",)
    method: str = "verbal"
    taken_at: dt.datetime | None = None
    service_name: str = ""


@dataclass(frozen=True)
class CheckInput:
    """Everything an officer can record; only ``unit_id`` and ``received_at`` are needed first."""

    unit_id: int
    received_at: dt.datetime
    incident_number: str = ""
    initiator: str = ""
    reasons: tuple[str, ...] = ()
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    triage: str = ""
    triage_rationale: str = ""
    caller_told: bool | None = None
    dispatched_at: dt.datetime | None = None
    arrived_at: dt.datetime | None = None
    cleared_at: dt.datetime | None = None
    responder_ids: tuple[int, ...] = ()
    co_responder_present: bool | None = None
    observed: tuple[str, ...] = ()
    outcome: str = ""
    referrals: tuple[str, ...] = ()
    mental_health_related: bool = False
    narrative: str = ""
    person: PersonInput = field(default_factory=PersonInput)
    consent: ConsentInput | None = None

    IDENTIFYING = (
        "incident_number",
        "address",
        "latitude",
        "longitude",
        "triage_rationale",
        "dispatched_at",
        "arrived_at",
        "cleared_at",
        "responder_ids",
        "narrative",
        "person",
    )
