"""The enumerated audit event types, each in one category (CJIS 5.4.1.1, UK DPA 2018 s.62)."""

from __future__ import annotations

from django.db import models


class Category(models.TextChoices):
    COLLECTION = "collection", "Collection"
    ALTERATION = "alteration", "Alteration"
    CONSULTATION = "consultation", "Consultation (read)"
    DISCLOSURE = "disclosure", "Disclosure"
    COMBINATION = "combination", "Combination"
    ERASURE = "erasure", "Erasure"
    SIGN_IN = "sign_in", "Sign-in"
    PERMISSION = "permission", "Permission change"
    AUDIT_ACCESS = "audit_access", "Audit access"
    POLICY = "policy", "Policy change"


class EventType(models.TextChoices):
    CHECK_CREATED = "check.created", "Check recorded"
    CHECK_TALLIED = "check.tallied", "Check recorded as a de-identified tally"
    CHECK_UPDATED = "check.updated", "Check changed"
    CHECK_SUBMITTED = "check.submitted", "Check submitted for review"
    CHECK_APPROVED = "check.approved", "Check approved"
    CHECK_RETURNED = "check.returned", "Check returned to the officer"
    CHECK_MARKED_MH = "check.marked_mental_health", "Check marked mental-health related"
    CHECK_VIEWED = "check.viewed", "Identifying record of a check read"
    CHECK_LISTED = "check.listed", "Checks listed"
    CHECK_DEIDENTIFIED = "check.deidentified", "Identity removed; check kept as a tally"
    FOLLOW_UP_CREATED = "follow_up.created", "Follow-up created"
    FOLLOW_UP_COMPLETED = "follow_up.completed", "Follow-up completed"
    OUTCOME_REVIEWED = "check.outcome_reviewed", "Outcome reviewed"
    PERSON_VIEWED = "person.viewed", "Person read"
    CONSENT_RECORDED = "consent.recorded", "Consent recorded"
    CONSENT_WITHDRAWN = "consent.withdrawn", "Consent withdrawn"
    CONSENT_LAPSED = "consent.lapsed", "Consent lapsed"
    IMPORT_BATCH = "import.batch", "Dispatch calls imported"
    EXPORT = "export", "Data exported"
    # encryption, retention and the person's rights (issue 5)
    PERSON_SEARCHED = "person.searched", "Persons searched by name or birth date"
    PERSON_ERASED = "person.erased", "Person erased (data key destroyed, checks kept as tallies)"
    KEYS_ROTATED = "keys.rotated", "Encryption keys rotated"
    KEK_RETIRED = "keys.kek_retired", "Key-encryption key destroyed"
    RECORD_SEALED = "record.sealed", "Record sealed"
    RECORD_UNSEALED = "record.unsealed", "Record unsealed"
    RECORD_RESTRICTED = "record.restricted", "Record restricted (kept for evidence)"
    RECORD_UNRESTRICTED = "record.unrestricted", "Restriction lifted"
    RECORD_EXPUNGED = "record.expunged", "Record expunged"
    PROTECTED_RECORD_VIEWED = "record.protected_viewed", "Sealed or restricted record read"
    RETENTION_REVIEW_DUE = "retention.review_due", "Retention review task created"
    RETENTION_DECIDED = "retention.decided", "Retention review decided"
    RECORD_DISPOSED = "retention.disposed", "Identity disposed at review; tally kept"
    HEALTH_SEGMENT_RECORDED = "health.recorded", "Health segment recorded"
    HEALTH_AUTHORITY_RECORDED = "health.authority_recorded", "Health consent or order recorded"
    HEALTH_DISCLOSED = "health.disclosed", "Health segment disclosed"
    HEALTH_DISCLOSURE_REFUSED = "health.disclosure_refused", "Health segment disclosure refused"
    SUBJECT_ACCESS_OPENED = "rights.access_opened", "Subject access request received"
    SUBJECT_ACCESS_ANSWERED = "rights.access_answered", "Subject access request answered"
    RIGHTS_REQUEST_RECEIVED = "rights.request_received", "Rights request received"
    RIGHTS_REQUEST_DECIDED = "rights.request_decided", "Rights request decided"
    SIGN_IN_SUCCESS = "sign_in.success", "Signed in"
    SIGN_IN_FAILURE = "sign_in.failure", "Sign-in failed"
    SIGN_OUT = "sign_in.sign_out", "Signed out"
    TOKEN_ISSUED = "token.issued", "API token issued"
    USER_CREATED = "user.created", "User created"
    POLICY_CHANGED = "agency.policy_changed", "Record policy changed"
    AGENCY_SETTINGS_CHANGED = "agency.settings_changed", "Agency settings changed"
    CODE_CHANGED = "code.changed", "Reference code added or changed"
    ACCESS_DENIED = "access.denied", "Access refused"
    AUDIT_READ = "audit.read", "Audit trail read"
    AUDIT_EXPORTED = "audit.exported", "Audit trail exported (CSV)"
    AUDIT_ARCHIVED = "audit.archived", "Old audit events moved to an archive file"
    # access control (issue 3)
    PASSWORD_CHANGED = "sign_in.password_changed", "Password changed"
    PASSWORD_RESET_REQUESTED = "sign_in.password_reset_requested", "Password reset requested"
    PASSWORD_RESET_DONE = "sign_in.password_reset_done", "Password reset with an e-mailed link"
    MFA_ENROLLED = "sign_in.mfa_enrolled", "Authenticator app enrolled"
    MFA_DISABLED = "sign_in.mfa_disabled", "Authenticator app removed"
    RECOVERY_CODES_ISSUED = "sign_in.recovery_codes_issued", "MFA recovery codes issued"
    ROLE_CHANGED = "user.role_changed", "Role or unit changed"
    GRANT_CHANGED = "grant.changed", "Grant changed"
    BREAK_GLASS_OPENED = "break_glass.opened", "Emergency access opened (break the glass)"
    BREAK_GLASS_REVIEWED = "break_glass.reviewed", "Emergency access reviewed"


CATEGORY_OF: dict[str, str] = {
    EventType.CHECK_CREATED: Category.COLLECTION,
    EventType.CHECK_TALLIED: Category.COLLECTION,
    EventType.CHECK_UPDATED: Category.ALTERATION,
    EventType.CHECK_SUBMITTED: Category.ALTERATION,
    EventType.CHECK_APPROVED: Category.ALTERATION,
    EventType.CHECK_RETURNED: Category.ALTERATION,
    EventType.CHECK_MARKED_MH: Category.ALTERATION,
    EventType.CHECK_VIEWED: Category.CONSULTATION,
    EventType.CHECK_LISTED: Category.CONSULTATION,
    EventType.CHECK_DEIDENTIFIED: Category.ERASURE,
    EventType.FOLLOW_UP_CREATED: Category.COLLECTION,
    EventType.FOLLOW_UP_COMPLETED: Category.ALTERATION,
    EventType.OUTCOME_REVIEWED: Category.ALTERATION,
    EventType.PERSON_VIEWED: Category.CONSULTATION,
    EventType.CONSENT_RECORDED: Category.COLLECTION,
    EventType.CONSENT_WITHDRAWN: Category.ALTERATION,
    EventType.CONSENT_LAPSED: Category.ALTERATION,
    EventType.IMPORT_BATCH: Category.COLLECTION,
    EventType.EXPORT: Category.DISCLOSURE,
    EventType.PERSON_SEARCHED: Category.CONSULTATION,
    EventType.PERSON_ERASED: Category.ERASURE,
    EventType.KEYS_ROTATED: Category.POLICY,
    EventType.KEK_RETIRED: Category.POLICY,
    EventType.RECORD_SEALED: Category.ALTERATION,
    EventType.RECORD_UNSEALED: Category.ALTERATION,
    EventType.RECORD_RESTRICTED: Category.ALTERATION,
    EventType.RECORD_UNRESTRICTED: Category.ALTERATION,
    EventType.RECORD_EXPUNGED: Category.ERASURE,
    EventType.PROTECTED_RECORD_VIEWED: Category.CONSULTATION,
    EventType.RETENTION_REVIEW_DUE: Category.ALTERATION,
    EventType.RETENTION_DECIDED: Category.ALTERATION,
    EventType.RECORD_DISPOSED: Category.ERASURE,
    EventType.HEALTH_SEGMENT_RECORDED: Category.COLLECTION,
    EventType.HEALTH_AUTHORITY_RECORDED: Category.ALTERATION,
    EventType.HEALTH_DISCLOSED: Category.DISCLOSURE,
    EventType.HEALTH_DISCLOSURE_REFUSED: Category.DISCLOSURE,
    EventType.SUBJECT_ACCESS_OPENED: Category.COLLECTION,
    EventType.SUBJECT_ACCESS_ANSWERED: Category.DISCLOSURE,
    EventType.RIGHTS_REQUEST_RECEIVED: Category.COLLECTION,
    EventType.RIGHTS_REQUEST_DECIDED: Category.ALTERATION,
    EventType.SIGN_IN_SUCCESS: Category.SIGN_IN,
    EventType.SIGN_IN_FAILURE: Category.SIGN_IN,
    EventType.SIGN_OUT: Category.SIGN_IN,
    EventType.TOKEN_ISSUED: Category.PERMISSION,
    EventType.USER_CREATED: Category.PERMISSION,
    EventType.POLICY_CHANGED: Category.POLICY,
    EventType.AGENCY_SETTINGS_CHANGED: Category.POLICY,
    EventType.CODE_CHANGED: Category.POLICY,
    EventType.ACCESS_DENIED: Category.CONSULTATION,
    EventType.AUDIT_READ: Category.AUDIT_ACCESS,
    EventType.AUDIT_EXPORTED: Category.AUDIT_ACCESS,
    EventType.AUDIT_ARCHIVED: Category.AUDIT_ACCESS,
    EventType.PASSWORD_CHANGED: Category.SIGN_IN,
    EventType.PASSWORD_RESET_REQUESTED: Category.SIGN_IN,
    EventType.PASSWORD_RESET_DONE: Category.SIGN_IN,
    EventType.MFA_ENROLLED: Category.SIGN_IN,
    EventType.MFA_DISABLED: Category.SIGN_IN,
    EventType.RECOVERY_CODES_ISSUED: Category.SIGN_IN,
    EventType.ROLE_CHANGED: Category.PERMISSION,
    EventType.GRANT_CHANGED: Category.PERMISSION,
    EventType.BREAK_GLASS_OPENED: Category.CONSULTATION,
    EventType.BREAK_GLASS_REVIEWED: Category.PERMISSION,
}


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
