"""Daily jobs of the people app."""

from __future__ import annotations

from wellcheck.core.schedule import daily
from wellcheck.people.services import consent_lapse_sweep


@daily("consent-lapse")
def consent_lapse() -> str:
    return f"{consent_lapse_sweep()} person(s) de-identified after consent lapsed"
