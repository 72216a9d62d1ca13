"""The data dictionary published beside every open-data file."""

from __future__ import annotations

FIELDS: list[dict[str, str]] = [
    {
        "field": "period",
        "type": "text",
        "description": ("The month (YYYY-MM) or quarter (YYYY-Qn), local time of the agency."),
    },
    {
        "field": "table",
        "type": "text",
        "description": (
            "Which table the row belongs to: outcome, initiator, reason, "
            "referral, time_of_day, mental_health, month (quarters only)."
        ),
    },
    {
        "field": "area",
        "type": "text",
        "description": (
            "The agency's top-level area (usually a police district), or "
            "'All areas' for column totals."
        ),
    },
    {
        "field": "category",
        "type": "text",
        "description": (
            "The category of the table's second dimension (e.g. an outcome), or 'Total'."
        ),
    },
    {
        "field": "count",
        "type": "integer or empty",
        "description": (
            "Number of wellness checks (for reason and referral: "
            "mentions, as one check may have several). Empty when "
            "suppressed."
        ),
    },
    {
        "field": "status",
        "type": "text",
        "description": (
            "'published', or 'suppressed' when the count is below the "
            "threshold or hidden so that it cannot be worked out from the "
            "totals."
        ),
    },
]

TABLES: dict[str, str] = {
    "outcome": "Checks by area and outcome (what happened).",
    "initiator": "Checks by area and who asked for the check.",
    "reason": (
        "Reasons for concern by area. A check may give several "
        "reasons: counts are mentions, so a row adds up to more than "
        "its checks."
    ),
    "referral": (
        "Referrals made, by area. A check may lead to several referrals: counts are mentions."
    ),
    "time_of_day": (
        "Checks by area and the four-hour block of the day in which the call was received."
    ),
    "mental_health": (
        "Checks by area, split by whether the call was marked "
        "mental-health related (at the time or later)."
    ),
    "month": "Checks by area and month (quarterly reports only).",
}

METHOD = (
    "Counts come from WellCheck's de-identified check records: no names, birth dates, addresses "
    "or narratives are used. Cells below the threshold are suppressed, and further cells "
    "(complementary suppression) so that no suppressed cell can be calculated from the row and "
    "column totals; area totals hidden in one table are hidden in every table that shares them. "
    "When differential privacy is switched on, random integer noise (discrete Laplace, OpenDP) "
    "is added to each cell before suppression, and totals are the sums of the noisy cells."
)
