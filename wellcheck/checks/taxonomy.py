"""The shared starting taxonomies (see docs/domain.md, from the domain guide section 2).

Each agency may add codes of its own; statistics compare across agencies through these shared
categories. The data migration ``0002_default_codes`` loads this list as agency-less codes.
"""

from __future__ import annotations

from django.db import models


class CodeCategory(models.TextChoices):
    INITIATOR = "initiator", "Who asked"
    REASON = "reason", "Reason for concern"
    TRIAGE = "triage", "Triage decision"
    OBSERVED = "observed", "Observed"
    OUTCOME = "outcome", "Outcome"
    REFERRAL = "referral", "Referral"
    OUTCOME_REVIEW = "outcome_review", "Outcome review"


DEFAULT_CODES: dict[str, list[tuple[str, str]]] = {
    CodeCategory.INITIATOR: [
        ("family", "Family member"),
        ("friend", "Friend"),
        ("neighbour", "Neighbour"),
        ("self", "The person themself"),
        ("landlord", "Landlord or property manager"),
        ("employer_school", "Employer or school"),
        ("care_provider", "Health or social-care provider"),
        ("other_agency", "Other agency"),
        ("police", "Police on-view / proactive"),
        ("anonymous", "Anonymous"),
        ("other", "Other"),
    ],
    CodeCategory.REASON: [
        ("mental_health", "Mental-health crisis"),
        ("suicide_risk", "Suicide risk or threat"),
        ("substance_use", "Substance use"),
        ("dementia", "Dementia or cognitive impairment"),
        ("older_not_seen", "Older person not seen"),
        ("missed_contact", "Missed contact or unreachable"),
        ("medical", "Medical concern"),
        ("unusual_behaviour", "Unusual behaviour"),
        ("domestic", "Domestic situation"),
        ("missing_from_care", "Missing from care (AWOL)"),
        ("exposure_homelessness", "Exposure or homelessness"),
        ("child_youth", "Child or youth"),
        ("other", "Other"),
    ],
    CodeCategory.TRIAGE: [
        ("attend", "Attend"),
        ("refer", "Refer to another service"),
        ("advice", "Advice only"),
    ],
    CodeCategory.OBSERVED: [
        ("disoriented", "Disoriented or confused"),
        ("hopeless", "Hopeless or depressed"),
        ("suicide_threat", "Suicide threat"),
        ("suicide_attempt", "Suicide attempt"),
        ("hallucinations", "Hallucinations or delusions"),
        ("manic", "Manic"),
        ("intoxicated", "Intoxicated"),
        ("self_neglect", "Self-neglect"),
        ("unable_self_care", "Unable to care for self"),
        ("aggressive", "Aggressive or threatening"),
        ("weapon", "Weapon present"),
        ("no_concern", "No concern observed"),
    ],
    CodeCategory.OUTCOME: [
        ("unable_to_locate", "Unable to locate"),
        ("safe_no_action", "Person safe, no action"),
        ("advice_given", "Advice given"),
        ("resources_offered", "Resources offered"),
        ("resources_declined", "Resources declined"),
        ("mobile_crisis", "Referred to mobile crisis team"),
        ("crisis_clinic", "Referred to crisis clinic or mental-health professional"),
        ("case_manager", "Case manager notified"),
        ("voluntary_transport", "Voluntary transport to hospital"),
        ("involuntary_detention", "Involuntary detention for evaluation (5150 / ITA / s.136)"),
        ("ems_transport", "EMS medical transport"),
        ("arrest", "Arrest"),
        ("deceased", "Deceased"),
        ("other", "Other"),
    ],
    CodeCategory.REFERRAL: [
        ("mobile_crisis", "Mobile crisis team"),
        ("crisis_line", "988 or crisis line"),
        ("mental_health_provider", "Mental-health provider"),
        ("substance_use_service", "Substance-use service"),
        ("adult_protective", "Adult protective services"),
        ("housing", "Housing or shelter"),
        ("family_caregiver", "Family or caregiver"),
        ("primary_care", "Primary care"),
        ("other", "Other"),
    ],
    CodeCategory.OUTCOME_REVIEW: [
        ("successful", "Intervention successful"),
        ("further_action", "Further action needed"),
        ("unknown", "Unknown"),
    ],
}
