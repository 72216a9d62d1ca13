"""Helpers for tests (and other engineers' tests) that need real dispatch data in the database.

``import_file(agency, "san_diego", path)`` imports a CSV with a built-in profile exactly as the
command does and returns the :class:`~wellcheck.intake.engine.ImportResult`. ``canonical_dump()``
renders the import-related tables without run-specific values, to compare two databases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wellcheck.accounts.models import Agency, User
from wellcheck.intake.engine import ImportResult, run_import
from wellcheck.intake.profiles import load_profile

# The header of the San Diego extract (and of bench/gen_sandiego.py), for tests that write files.
SD_HEADER = (
    '"incident_num","date_time","day_of_week","address_number_primary","address_dir_primary",'
    '"address_road_primary","address_sfx_primary","address_dir_intersecting",'
    '"address_road_intersecting","address_sfx_intersecting","call_type","disposition","beat",'
    '"priority"'
)


def real_data_dir() -> Path:
    """``../shared/data/cfs`` beside the repository (tests only; the app never reads it)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cfs"


REAL_FILES = {
    "san_diego": ("san_diego", "pd_calls_for_service_2023_datasd.csv"),
    "milwaukee": ("milwaukee", "calls_2018-05.csv"),
    "berkeley": ("berkeley", "calls_2014-07_2014-11.csv"),
}


def real_file(profile_name: str) -> Path:
    folder, name = REAL_FILES[profile_name]
    return real_data_dir() / folder / name


def import_file(
    agency: Agency,
    profile_name: str,
    path: str | Path | None = None,
    *,
    actor: User | None = None,
    reject_path: Path | None = None,
    batch_size: int = 50_000,
) -> ImportResult:
    """Import ``path`` (default: the real extract of that profile) into ``agency``."""
    profile = load_profile(profile_name)
    return run_import(
        agency=agency,
        profile=profile,
        path=Path(path) if path else real_file(profile_name),
        actor=actor,
        reject_path=reject_path,
        batch_size=batch_size,
    )


def canonical_dump() -> str:
    """The import-related tables as sorted JSON lines, free of run ids and timestamps of writing."""
    from wellcheck.accounts.models import Unit
    from wellcheck.audit.models import AuditEvent
    from wellcheck.checks.models import CheckDetail, WellnessCheck
    from wellcheck.intake.ledger import decode
    from wellcheck.intake.models import CallCount, ImportedCall, LedgerPage

    out: list[Any] = []
    key_of = {str(pk): key for pk, key in WellnessCheck.objects.values_list("id", "source_key")}

    def k(value: Any) -> str:
        """A check by its source key: ids hold the agency's uuid, which differs per database."""
        return str(key_of.get(str(value), value))

    for c in WellnessCheck.objects.all().values(
        "id",
        "agency__slug",
        "unit__code",
        "state",
        "record_mode",
        "source",
        "source_key",
        "received_at",
        "outcome__code",
        "mental_health_related",
    ):
        c["id"] = k(c["id"])
        out.append(["check", {key: str(v) for key, v in c.items()}])
    for d in CheckDetail.objects.all():
        out.append(
            [
                "detail",
                [
                    k(d.check_record_id),
                    d.incident_number,
                    d.address,
                    d.address_key,
                    str(d.latitude),
                    str(d.longitude),
                ],
            ]
        )
    for row in ImportedCall.objects.all().values_list(
        "agency__slug",
        "source_key",
        "digest",
        "category",
        "call_type",
        "unit_code",
        "day",
        "check_record_id",
    ):
        out.append(["call", [*(str(v) for v in row[:-1]), k(row[-1])]])
    for slug, bucket, blob in LedgerPage.objects.values_list("agency__slug", "bucket", "entries"):
        for key, (val, group, flags) in decode(blob).items():
            out.append(["entry", [slug, str(bucket), key.hex(), val.hex(), list(group), flags]])
    totals: dict[tuple[str, str, str, str, str], int] = {}
    for slug, category, unit_code, day, types in CallCount.objects.values_list(
        "agency__slug", "category", "unit_code", "day", "call_types"
    ):  # a count is the sum of its group's deltas (CallCount is a log, call types in a map)
        for call_type, n in types.items():
            count_group = (slug, category, call_type, unit_code, str(day))
            totals[count_group] = totals.get(count_group, 0) + n
    for count_group, n in totals.items():
        if n:
            out.append(["count", [*count_group, str(n)]])
    for row in Unit.objects.values_list("agency__slug", "code", "name", "kind"):
        out.append(["unit", list(row)])
    for e in AuditEvent.objects.filter(event_type="import.batch").values("details"):
        details = dict(e["details"])
        details["created"] = [k(i) for i in details.get("created", [])]
        details["updated"] = [{**u, "id": k(u["id"])} for u in details.get("updated", [])]
        out.append(["audit", details])
    return "\n".join(sorted(json.dumps(x, sort_keys=True, default=str) for x in out))


def ledger_entries(agency: Any = None) -> list[tuple[str, str, str, str, int]]:
    """Every ledger entry (of one agency, or all) as (category, call_type, unit_code, day,
    flags): what the tests count where they counted ``ImportedCall`` rows before 0005."""
    from wellcheck.intake.ledger import decode
    from wellcheck.intake.models import LedgerPage

    pages = LedgerPage.objects.all()
    if agency is not None:
        pages = pages.filter(agency=agency)
    out = []
    for blob in pages.values_list("entries", flat=True):
        for _val, group, flags in decode(blob).values():
            out.append((*group, flags))
    return out


def ledger_calls(agency: Any = None) -> int:
    return len(ledger_entries(agency))


def parse_job(path: Path, profile_name: str = "san_diego", **kw: Any) -> Any:
    """A ``producer.Job`` for reading ``path`` in tests: the profile's own zone for the days
    analytics marks, fast entries on; ``kw`` overrides (``tally``, ``batch_size``, ``skip``...)."""
    import zoneinfo

    from wellcheck.intake import producer

    profile = load_profile(profile_name)
    fields: dict[str, Any] = {
        "path": path,
        "profile": profile,
        "tally": False,
        "mark_zone": zoneinfo.ZoneInfo(profile.time_zone),
        "batch_size": 100,
        "skip": 0,
        "fast": True,
    }
    fields.update(kw)
    return producer.Job(**fields)
