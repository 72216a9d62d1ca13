"""Database triggers that make the audit tables append-only, on PostgreSQL and on SQLite.

* ``audit_auditevent``: UPDATE is refused. DELETE is refused unless the event's ``seq`` lies in a
  recorded archive (``audit_auditarchive``): the only way to remove events is to archive them to a
  file first (``archive.py``), and the archive row is written in the same transaction as the
  deletion. TRUNCATE is refused (PostgreSQL; SQLite has none).
* ``audit_auditcheckpoint`` and ``audit_auditarchive``: UPDATE, DELETE and TRUNCATE refused.

Triggers stop the application and honest mistakes. They do not stop a database superuser, who can
disable them (``session_replication_role = replica`` on PostgreSQL; any writer of the SQLite file
can drop them): that is what the hash chain and the signed, exported checkpoints are for.
:func:`triggers_bypassed` is that superuser path, used only by the test suite's ``flush`` and by
the tamper tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

PROTECTED = ("audit_auditevent", "audit_auditcheckpoint", "audit_auditarchive")

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION wellcheck_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE OR REPLACE FUNCTION wellcheck_audit_event_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (
            SELECT 1 FROM audit_auditarchive a WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq
        ) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _pg_create() -> list[str]:
    sql = [_PG_FUNCTIONS]
    for table in PROTECTED:
        row_function = (
            "wellcheck_audit_event_guard"
            if table == "audit_auditevent"
            else "wellcheck_audit_append_only"
        )
        sql += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {row_function}();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION wellcheck_audit_append_only();",
        ]
    return sql


def _pg_drop() -> list[str]:
    sql = []
    for table in PROTECTED:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    return [
        *sql,
        "DROP FUNCTION IF EXISTS wellcheck_audit_event_guard();",
        "DROP FUNCTION IF EXISTS wellcheck_audit_append_only();",
    ]


def _sqlite_create() -> list[str]:
    sql = []
    for table in PROTECTED:
        sql.append(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on {table} refused'); "
            "END;"
        )
        guard = ""
        if table == "audit_auditevent":
            guard = (
                "WHEN NOT EXISTS (SELECT 1 FROM audit_auditarchive a "
                "WHERE OLD.seq BETWEEN a.first_seq AND a.last_seq) "
            )
        sql.append(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {guard}BEGIN "
            f"SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on {table} refused'); "
            "END;"
        )
    return sql


def _sqlite_drop() -> list[str]:
    sql = []
    for table in PROTECTED:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_update;",
            f"DROP TRIGGER IF EXISTS {table}_no_delete;",
        ]
    return sql


def create_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_create()
    if vendor == "sqlite":
        return _sqlite_create()
    raise NotImplementedError(f"no audit triggers for the {vendor} database")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_drop()
    if vendor == "sqlite":
        return _sqlite_drop()
    raise NotImplementedError(f"no audit triggers for the {vendor} database")


@contextmanager
def triggers_bypassed(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Superuser maintenance only: the triggers do not fire inside the block.

    PostgreSQL: ``session_replication_role = replica`` (needs a superuser; an application role
    gets "permission denied"). SQLite: the triggers are dropped and created again afterwards.
    """
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for statement in drop_sql(vendor):
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for statement in create_sql(vendor):
                    cursor.execute(statement)
