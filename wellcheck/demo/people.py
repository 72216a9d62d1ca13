"""The demo's made-up persons and the invented parts of their checks. Obviously fictional by design:
no name here belongs to anyone in the dispatch data (which names nobody)."""

from __future__ import annotations

import datetime as dt

# (given name, family name, date of birth, alias)
FICTIONAL_PERSONS: list[tuple[str, str, dt.date, str]] = [
    ("Avery", "Madeup", dt.date(1938, 4, 12), ""),
    ("Blair", "Fictional", dt.date(1951, 9, 3), "Bee"),
    ("Casey", "Placeholder", dt.date(1987, 1, 22), ""),
    ("Devon", "Examplesson", dt.date(1944, 11, 30), ""),
    ("Emery", "Notreal", dt.date(1999, 6, 15), "Em"),
    ("Finley", "Sampleton", dt.date(1962, 2, 8), ""),
    ("Gray", "Inventedez", dt.date(1935, 7, 19), ""),
    ("Harper", "Demoperson", dt.date(1978, 12, 1), ""),
    ("Indigo", "Fakename", dt.date(2004, 3, 27), ""),
    ("Jules", "Pretendly", dt.date(1949, 10, 10), "JP"),
    ("Kai", "Storybook", dt.date(1990, 5, 5), ""),
    ("Lane", "Imaginary", dt.date(1941, 8, 23), ""),
    ("Morgan", "Nobodyton", dt.date(1983, 4, 2), ""),
    ("Noel", "Testfigure", dt.date(1957, 1, 31), ""),
    ("Oakley", "Mockworth", dt.date(1968, 9, 14), ""),
    ("Parker", "Synthetic", dt.date(1947, 6, 6), ""),
    ("Quinn", "Unrealis", dt.date(2001, 11, 11), ""),
    ("Rowan", "Dummyfield", dt.date(1939, 2, 28), "Ro"),
    ("Sage", "Hypothetical", dt.date(1972, 7, 4), ""),
    ("Tatum", "Fauxman", dt.date(1960, 12, 24), ""),
]

# The invented facts, cycled over the persons' checks: initiator, reasons, observed, referrals.
STORIES: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = [
    (
        "family",
        ("older_not_seen", "dementia"),
        ("disoriented",),
        ("family_caregiver",),
        "found at home, confused but unhurt; daughter informed",
    ),
    (
        "neighbour",
        ("missed_contact",),
        ("no_concern",),
        (),
        "person was away; returned during the visit, no concern",
    ),
    (
        "friend",
        ("mental_health", "suicide_risk"),
        ("hopeless", "suicide_threat"),
        ("mobile_crisis", "crisis_line"),
        "spoke with the person; crisis team took over",
    ),
    (
        "landlord",
        ("exposure_homelessness", "medical"),
        ("self_neglect",),
        ("housing",),
        "unit without heating; shelter place and a nurse visit arranged",
    ),
    (
        "care_provider",
        ("missing_from_care", "dementia"),
        ("disoriented", "unable_self_care"),
        ("adult_protective",),
        "found two blocks from the care home and walked back",
    ),
    (
        "self",
        ("mental_health",),
        ("hallucinations",),
        ("mental_health_provider",),
        "asked for help; accepted a referral to the clinic",
    ),
    (
        "employer_school",
        ("unusual_behaviour",),
        ("intoxicated",),
        ("substance_use_service",),
        "resting at home after drinking; accepted information on services",
    ),
]

OUTCOME_FOR_STORY = [
    "advice_given",
    "safe_no_action",
    "mobile_crisis",
    "resources_offered",
    "case_manager",
    "crisis_clinic",
    "resources_offered",
]

RETURN_NOTE = "Add who asked for the check and whether the caller was told. (Demo note.)"
