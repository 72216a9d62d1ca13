"""The bulk path around the ORM, used only by ``intake.services`` inside its batch transaction.

PostgreSQL: ``COPY`` (psycopg 3) into a temporary staging table shaped like the target, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (idempotent even if two imports race).
SQLite: ``executemany`` of the same ``INSERT ... ON CONFLICT DO NOTHING``. Values are converted
with the model fields' own database conversion (UUIDs, datetimes, decimals), so both databases
store exactly what the ORM would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.UUIDField | models.DateTimeField | models.DateField) or isinstance(
        field, models.DecimalField
    ):
        return lambda v, f=field: None if v is None else f.get_db_prep_value(v, connection)
    return None


def table_columns(model: type[models.Model], names: Sequence[str]) -> list[tuple[str, Any]]:
    """(column, converter) for the named model fields (attnames such as ``agency_id`` allowed)."""
    out = []
    for name in names:
        field = next(f for f in model._meta.concrete_fields if name in (f.attname, f.name))
        out.append((field.column, _converter(field)))  # type: ignore[arg-type]
    return out


def db_row(instance: models.Model, fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """The column values the ORM would write for a new ``instance`` (each field's ``pre_save``
    and database conversion, so encrypted fields are encrypted and bound to the row)."""
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def insert_ignore(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: bool = False,
) -> None:
    """Insert rows, skipping any that conflict with a unique constraint already satisfied.
    ``prepared`` rows come from :func:`db_row` and are written as they are."""
    cols = table_columns(model, names)
    if prepared:
        cols = [(c, None) for c, _ in cols]
    table = model._meta.db_table
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c, _ in cols)
    if connection.vendor == "postgresql":
        stage = qn(f"stage_{table}")
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} "  # noqa: S608 (names from the model)
                f"(LIKE {qn(table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cur.cursor.copy(f"COPY {stage} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {qn(table)} ({col_sql}) SELECT {col_sql} FROM {stage} "  # noqa: S608
                "ON CONFLICT DO NOTHING"
            )
            cur.execute(f"TRUNCATE {stage}")
        return
    convs = [c for _, c in cols]
    if any(convs):
        rows = ([v if c is None else c(v) for v, c in zip(row, convs, strict=True)] for row in rows)
    placeholders = ", ".join(["%s"] * len(cols))
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({placeholders}) "  # noqa: S608
            "ON CONFLICT DO NOTHING",
            list(rows),
        )


def add_counts(
    model: type[models.Model], keys: Sequence[str], deltas: dict[tuple[Any, ...], int]
) -> None:
    """``calls += delta`` per group key (insert the group when new)."""
    if not deltas:
        return
    cols = table_columns(model, [*keys, "calls"])
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    col_sql = ", ".join(qn(c) for c, _ in cols)
    conflict = ", ".join(qn(c) for c, _ in cols[:-1])
    calls = qn("calls")
    rows = []
    for key, delta in deltas.items():
        if delta:
            values = [*key, delta]
            rows.append([v if c is None else c(v) for v, (_, c) in zip(values, cols, strict=True)])
    if not rows:
        return
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({col_sql}) VALUES ({', '.join(['%s'] * len(cols))}) "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {calls} = {table}.{calls} + EXCLUDED.{calls}",
            rows,
        )


def lock_agency(agency_id: uuid.UUID) -> None:
    """Serialise imports of one agency (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers already (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [hash_lock(agency_id)])


def hash_lock(agency_id: uuid.UUID) -> int:
    return int.from_bytes(agency_id.bytes[:8], "big", signed=True) ^ 0x1A7A4E
