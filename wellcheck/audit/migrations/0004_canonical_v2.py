"""PostgreSQL: canonical format version 2 in SQL, and a one-round-trip append.

* ``wellcheck_audit_canonical_v2(...)``: the version 2 canonical bytes of an event (see
  ``audit/canonical_v2.py``; a property test holds both to the same bytes). A plain SQL
  expression, STABLE so that the planner inlines it into the query that calls it.
* ``wellcheck_audit_append(...)``: takes the append lock, reads the tail (or the newest archive),
  hashes the event in the database and inserts it; returns id, seq, prev_hash and row_hash. One
  round trip per audited read instead of three. ``relaxed`` sets ``synchronous_commit = off`` for
  the current transaction only (the opt-in for read events, docs/adr/0004-audit-chain.md).
* A partial index over the few version 1 events (written before this migration), so that the
  set-based verifier finds the rows it must re-hash in Python without scanning the table.

SQLite needs none of it: events are hashed in Python there.
"""

from django.db import migrations

LOCK_KEY = 0x57434155444954  # wellcheck.audit.chain.APPEND_LOCK

ARGS = (
    "p_seq bigint, p_occurred_at timestamptz, p_component text, p_event_type text, "
    "p_category text, p_actor_id bigint, p_actor_name text, p_agency_id uuid, p_outcome text, "
    "p_request_id text, p_client_ip text, p_target_type text, p_target_id text, p_reason text, "
    "p_recipients jsonb, p_changes jsonb, p_details jsonb"
)

CANONICAL = f"""
CREATE OR REPLACE FUNCTION wellcheck_audit_canonical_v2({ARGS})
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
SELECT convert_to(concat_ws(';',
    '2',
    coalesce(p_seq::text, '~'),
    coalesce(encode(timestamptz_send(p_occurred_at), 'hex'), '~'),
    coalesce(octet_length(p_component), -1), p_component,
    coalesce(octet_length(p_event_type), -1), p_event_type,
    coalesce(octet_length(p_category), -1), p_category,
    coalesce(p_actor_id::text, '~'),
    coalesce(octet_length(p_actor_name), -1), p_actor_name,
    coalesce(p_agency_id::text, '~'),
    coalesce(octet_length(p_outcome), -1), p_outcome,
    coalesce(octet_length(p_request_id), -1), p_request_id,
    coalesce(octet_length(p_client_ip), -1), p_client_ip,
    coalesce(octet_length(p_target_type), -1), p_target_type,
    coalesce(octet_length(p_target_id), -1), p_target_id,
    coalesce(octet_length(p_reason), -1), p_reason,
    coalesce(p_recipients::text, '~'),
    coalesce(p_changes::text, '~'),
    coalesce(p_details::text, '~')), 'UTF8')
$fn$;
"""

APPEND = f"""
CREATE OR REPLACE FUNCTION wellcheck_audit_append(
    p_occurred_at timestamptz, p_component text, p_event_type text, p_category text,
    p_actor_id bigint, p_actor_name text, p_agency_id uuid, p_outcome text, p_request_id text,
    p_client_ip text, p_target_type text, p_target_id text, p_reason text, p_recipients jsonb,
    p_changes jsonb, p_details jsonb, p_relaxed boolean,
    OUT out_id bigint, OUT out_seq bigint, OUT out_prev varchar, OUT out_hash varchar)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    IF p_relaxed THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    SELECT e.seq, e.row_hash INTO out_seq, out_prev
        FROM audit_auditevent e ORDER BY e.seq DESC LIMIT 1;
    IF out_seq IS NULL THEN
        SELECT a.last_seq, a.last_hash INTO out_seq, out_prev
            FROM audit_auditarchive a ORDER BY a.last_seq DESC LIMIT 1;
    END IF;
    IF out_seq IS NULL THEN
        out_seq := 0;
        out_prev := repeat('0', 64);
    END IF;
    out_seq := out_seq + 1;
    out_hash := encode(sha256(decode(out_prev, 'hex') || wellcheck_audit_canonical_v2(
        out_seq, p_occurred_at, p_component, p_event_type, p_category, p_actor_id, p_actor_name,
        p_agency_id, p_outcome, p_request_id, p_client_ip, p_target_type, p_target_id, p_reason,
        p_recipients, p_changes, p_details)), 'hex');
    INSERT INTO audit_auditevent (
        seq, occurred_at, component, event_type, category, actor_id, actor_name, agency_id,
        outcome, request_id, client_ip, target_type, target_id, reason, recipients, changes,
        details, canon_version, prev_hash, row_hash)
    VALUES (
        out_seq, p_occurred_at, p_component, p_event_type, p_category, p_actor_id, p_actor_name,
        p_agency_id, p_outcome, p_request_id, p_client_ip, p_target_type, p_target_id, p_reason,
        p_recipients, p_changes, p_details, 2, out_prev, out_hash)
    RETURNING id INTO out_id;
END;
$fn$;
"""

V1_INDEX = (
    "CREATE INDEX IF NOT EXISTS audit_auditevent_v1_seq "
    "ON audit_auditevent (seq) WHERE canon_version <> 2"
)

DROP = [
    "DROP FUNCTION IF EXISTS wellcheck_audit_append(timestamptz, text, text, text, bigint, text, "
    "uuid, text, text, text, text, text, text, jsonb, jsonb, jsonb, boolean)",
    "DROP FUNCTION IF EXISTS wellcheck_audit_canonical_v2(bigint, timestamptz, text, text, text, "
    "bigint, text, uuid, text, text, text, text, text, text, jsonb, jsonb, jsonb)",
    "DROP INDEX IF EXISTS audit_auditevent_v1_seq",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in (CANONICAL, APPEND, V1_INDEX):
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_lock_tail_function")]
    operations = [migrations.RunPython(forwards, backwards)]
