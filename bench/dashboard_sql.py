"""The raw baseline: each dashboard panel's aggregate as one SQL GROUP BY over the base tables
(no rollups), with the same filters (agency, local-time period). PostgreSQL only."""

from __future__ import annotations

W = (
    "c.agency_id = %(agency)s AND c.received_at >= (%(start)s::timestamp AT TIME ZONE %(tz)s) "
    "AND c.received_at < (%(end)s::timestamp AT TIME ZONE %(tz)s)"
)
LOCAL = "(c.received_at AT TIME ZONE %(tz)s)"
C = "checks_wellnesscheck c"


def coded(column: str) -> str:
    return (
        f"SELECT k.code, count(*) FROM {C} LEFT JOIN checks_code k ON k.id = c.{column} "
        f"WHERE {W} GROUP BY k.code"
    )


def multi(table: str) -> str:
    return (
        f"SELECT k.code, count(*) FROM {C} JOIN {table} t ON t.wellnesscheck_id = c.id "
        f"JOIN checks_code k ON k.id = t.code_id WHERE {W} GROUP BY k.code"
    )


RAW: dict[str, str] = {
    "volume_day": f"SELECT {LOCAL}::date d, count(*) FROM {C} WHERE {W} GROUP BY d",
    "volume_week": f"SELECT date_trunc('week', {LOCAL}) w, count(*) FROM {C} WHERE {W} GROUP BY w",
    "volume_month": (
        f"SELECT date_trunc('month', {LOCAL}) m, count(*) FROM {C} WHERE {W} GROUP BY m"
    ),
    "by_area": (
        f"SELECT u.parent_id, count(*) FROM {C} JOIN accounts_unit u ON u.id = c.unit_id "
        f"WHERE {W} GROUP BY u.parent_id"
    ),
    "hour_of_week": (
        f"SELECT extract(isodow FROM {LOCAL}) d, extract(hour FROM {LOCAL}) h, count(*) "
        f"FROM {C} WHERE {W} GROUP BY d, h"
    ),
    "initiator": coded("initiator_id"),
    "reason": multi("checks_wellnesscheck_reasons"),
    "outcome": coded("outcome_id"),
    "referral": multi("checks_wellnesscheck_referrals"),
    "review": coded("outcome_review_id"),
    "response": (
        f"SELECT width_bucket(c.response_seconds, ARRAY[300, 600, 1200, 1800, 3600]) b, "
        f"count(*), avg(c.response_seconds), avg(c.on_scene_seconds) FROM {C} "
        f"WHERE {W} AND c.response_seconds IS NOT NULL GROUP BY b"
    ),
    "mental_health": (
        f"SELECT date_trunc('month', {LOCAL}) m, count(*), count(*) FILTER "
        f"(WHERE c.mental_health_related) FROM {C} WHERE {W} GROUP BY m"
    ),
    "repeats": (
        f"SELECT count(*) FROM {C} JOIN checks_checkdetail d ON d.check_record_id = c.id "
        f"WHERE {W} AND d.address_key <> '' AND EXISTS (SELECT 1 FROM checks_checkdetail d2 "
        "JOIN checks_wellnesscheck c2 ON c2.id = d2.check_record_id WHERE "
        "d2.address_key = d.address_key AND c2.agency_id = c.agency_id AND "
        "c2.received_at < c.received_at AND c2.received_at >= c.received_at - interval '365 days')"
    ),
    "follow_ups": (
        f"SELECT count(*), count(f.completed_at) FROM {C} JOIN checks_followup f "
        f"ON f.check_record_id = c.id WHERE {W}"
    ),
    "calls_share": (
        "SELECT category, sum(calls) FROM intake_callcount WHERE agency_id = %(agency)s "
        "AND day >= %(start)s::date AND day < %(end)s::date GROUP BY category"
    ),
    "mh_demand": (
        f"SELECT u.parent_id, floor(extract(hour FROM {LOCAL}) / 4) b, count(*) FROM {C} "
        f"JOIN accounts_unit u ON u.id = c.unit_id WHERE {W} AND c.mental_health_related "
        "GROUP BY u.parent_id, b"
    ),
    "rising": (
        f"SELECT u.parent_id, {LOCAL}::date d, count(*) FROM {C} "
        f"JOIN accounts_unit u ON u.id = c.unit_id WHERE c.agency_id = %(agency)s "
        "AND c.received_at >= ((%(start)s::timestamp - interval '8 weeks') AT TIME ZONE %(tz)s) "
        "AND c.received_at < (%(end)s::timestamp AT TIME ZONE %(tz)s) GROUP BY u.parent_id, d"
    ),
}
