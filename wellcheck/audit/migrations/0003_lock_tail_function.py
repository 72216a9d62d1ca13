"""PostgreSQL: take the append lock and read the chain's tail in one round trip.

Inside a PL/pgSQL function each statement takes a fresh snapshot (READ COMMITTED), so the tail is
read after the advisory lock is granted and sees the previous holder's committed event. SQLite
needs nothing (its writers are serialised by BEGIN IMMEDIATE).
"""

from django.db import migrations

LOCK_KEY = 0x57434155444954  # wellcheck.audit.chain.APPEND_LOCK

CREATE = f"""
CREATE OR REPLACE FUNCTION wellcheck_audit_lock_tail(OUT tail_seq bigint, OUT tail_hash varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    SELECT seq, row_hash INTO tail_seq, tail_hash
        FROM audit_auditevent ORDER BY seq DESC LIMIT 1;
END;
$$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS wellcheck_audit_lock_tail();", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain")]
    operations = [migrations.RunPython(forwards, backwards)]
