"""The bulk path around the ORM, used only by ``intake.services`` inside its batch transaction.

PostgreSQL: ``COPY`` (psycopg 3) into a temporary staging table shaped like the target, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (idempotent even if two imports race); the
ledger rows of new calls, whose keys are known new under the agency's import lock, are COPYed
straight into the ledger (:func:`copy_new`, :func:`ledger_new_others`).
SQLite: ``executemany`` of the same ``INSERT ... ON CONFLICT DO NOTHING``. Values are converted
with the model fields' own database conversion (UUIDs, datetimes, decimals), so both databases
store exactly what the ORM would.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction

from wellcheck.intake.models import CallCount, ImportedCall
from wellcheck.intake.parse import copy_text


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """A fast conversion to what the database driver takes, or None when none is needed.

    PostgreSQL (psycopg) takes dates, aware datetimes, UUIDs and decimals as they are; SQLite
    gets what Django's own SQLite adapters would give (ISO text, UUID hex, UTC naive text).
    """
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if connection.vendor == "postgresql":
        return None
    if isinstance(field, models.UUIDField):
        return lambda v: v if v is None or isinstance(v, str) else v.hex  # str: hex already
    if isinstance(field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        return lambda v: None if v is None else adapt(v)
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(field, models.DecimalField):
        return lambda v, f=field: None if v is None else f.get_db_prep_value(v, connection)
    return None


def table_columns(model: type[models.Model], names: Sequence[str]) -> list[tuple[str, Any]]:
    """(column, converter) for the named model fields (attnames such as ``agency_id`` allowed)."""
    out = []
    for name in names:
        field = next(f for f in model._meta.concrete_fields if name in (f.attname, f.name))
        out.append((field.column, _converter(field)))  # type: ignore[arg-type]
    return out


Sealer = Callable[[Any, dict[str, Any], Any], "str | None"]


def batch_sealer(model: type[models.Model]) -> Sealer | None:
    """An encryptor for one batch of ``model`` rows without a person (the global data-key scope):
    the active data key is looked up once, then each cell is encrypted and bound to its table,
    row and field exactly as the field's ``pre_save`` would (``wellcheck.crypto``). Returns None
    for a field that is not encrypted, and None altogether when the crypto layer is absent."""
    try:
        from wellcheck.crypto import envelope, keyring
        from wellcheck.crypto.fields import EncryptedMixin
        from wellcheck.crypto.scopes import scope_for_label
    except ImportError:  # pragma: no cover (the crypto layer is part of WellCheck)
        return None
    label = model._meta.label_lower
    dek_id = keyring.current_key_id(scope_for_label(label))
    pk_name = model._meta.pk.attname

    def seal(field: Any, values: dict[str, Any], value: Any) -> str | None:
        if not isinstance(field, EncryptedMixin):
            return None
        return envelope.encrypt(
            field.to_text(value),
            model_label=label,
            pk=values[pk_name],
            field=field.name,
            dek_id=dek_id,
        )

    return seal


class RowBuilder:
    """Rows of a model's concrete columns as the ORM would write them for a new instance.

    A field with its own ``pre_save`` (encrypted fields, ``auto_now``) runs it, so encrypted
    values are encrypted and bound to their row exactly as ``save()`` would; every other field
    takes the given value (or its default) through the fast converter. Built once per batch.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        plain = {models.Field.pre_save, models.DateField.pre_save, models.DateTimeField.pre_save}
        self._plan = []
        for f in self.fields:
            custom = type(f).pre_save not in plain
            default = None if f.has_default() and callable(f.default) else f.get_default()
            self._plan.append((f, f.attname, custom, default, _converter(f)))

    def row(self, values: dict[str, Any], *, seal: Sealer | None = None) -> list[Any]:
        """``seal`` (from :func:`batch_sealer`) encrypts encrypted fields without a key lookup
        per cell; without it each such field runs its own ``pre_save``."""
        instance = None
        out = []
        for f, attname, custom, default, conv in self._plan:
            value = values.get(attname, default)
            if custom and value not in (None, ""):
                if seal is not None and (sealed := seal(f, values, value)) is not None:
                    out.append(sealed)
                    continue
                if instance is None:
                    instance = self.model(**values)
                value = f.get_db_prep_save(f.pre_save(instance, True), connection)
            elif conv is not None and value is not None:
                value = conv(value)
            out.append(value)
        return out


def insert_ignore(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: bool = False,
) -> None:
    """Insert rows, skipping any that conflict with a unique constraint already satisfied.
    ``prepared`` rows come from :class:`RowBuilder` and are written as they are."""
    cols = table_columns(model, names)
    if prepared:
        cols = [(c, None) for c, _ in cols]
    table = model._meta.db_table
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c, _ in cols)
    if connection.vendor == "postgresql":
        # One staging table per column list (no constraints: the INSERT below checks them).
        stage = qn(f"stage_{table}_{len(cols)}")
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {col_sql} FROM {qn(table)} WITH NO DATA"
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


def copy_new(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert rows known to be new: PostgreSQL ``COPY`` straight into the table, SQLite
    ``executemany``. Only for rows whose keys the caller has just looked up under
    :func:`lock_agency` (so no conflict is possible); a conflict anyway fails the batch whole."""
    cols = table_columns(model, names)
    table = model._meta.db_table
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c, _ in cols)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {qn(table)} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    insert_ignore(model, names, rows)


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
    upsert = f"ON CONFLICT ({conflict}) DO UPDATE SET {calls} = {table}.{calls} + EXCLUDED.{calls}"
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            stage = qn(f"stage_{model._meta.db_table}_{len(cols)}")
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {col_sql} FROM {table} WITH NO DATA"
            )
            with cur.cursor.copy(f"COPY {stage} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"INSERT INTO {table} ({col_sql}) SELECT {col_sql} FROM {stage} {upsert}")  # noqa: S608
            cur.execute(f"TRUNCATE {stage}")
            return
        cur.executemany(
            f"INSERT INTO {table} ({col_sql}) VALUES ({', '.join(['%s'] * len(cols))}) {upsert}",  # noqa: S608
            rows,
        )


def existing_rows(
    model: type[models.Model], names: Sequence[str], *, agency_id: Any, keys: Sequence[str]
) -> list[tuple[Any, ...]]:
    """PostgreSQL: the rows of ``agency_id`` whose ``source_key`` is one of ``keys``, in one
    query with one array parameter (the ORM would bind thousands of parameters).

    One unique-index probe per key (``LATERAL ... LIMIT 1`` is not flattened into a join): with
    ``source_key = ANY(array)`` and statistics lagging behind a bulk load, PostgreSQL chose to
    read every ledger row of the agency (a bitmap scan: 0.5 s per batch at 600k rows)."""
    qn = connection.ops.quote_name
    cols = ", ".join(f"l.{qn(c)}" for c, _ in table_columns(model, names))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {cols} FROM unnest(string_to_array(%s, ',')::uuid[]) AS k(key) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT * FROM {qn(model._meta.db_table)} "
            "WHERE agency_id = %s AND source_key = k.key LIMIT 1) l",
            [",".join(keys), agency_id],  # one text parameter: keys are hex, never a comma
        )
        return cur.fetchall()


def lock_agency(agency_id: uuid.UUID) -> None:
    """Serialise imports of one agency (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers already (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [hash_lock(agency_id)])


def hash_lock(agency_id: uuid.UUID) -> int:
    return int.from_bytes(agency_id.bytes[:8], "big", signed=True) ^ 0x1A7A4E


_COUNTS_STAGE = "intake_stage_other_counts"
COPY_CHUNK = 1 << 20
# A staging line: key (32 hex) TAB digest (32 hex) TAB call type TAB beat TAB day TAB mark day NL
_DIGEST = slice(33, 65)
_GROUP = slice(66, -12)  # call type, beat, day (COPY text)
_MARK = slice(-11, -1)  # the local day in the agency's zone


def ledger_new_others(
    *, agency_id: uuid.UUID, category: str, lines: Sequence[str], probe_first: bool = True
) -> tuple[int, list[Any], list[str], bool]:
    """PostgreSQL only: the ledger rows and call counts of a batch of "other" calls.

    ``lines`` are COPY text lines ``source_key, digest, call_type, unit_code, day, mark_day``
    (``RowParser.parse_other``; ``mark_day``: the call's local day in the agency's zone), one
    per key: the caller sends a key's repeated occurrences down its row-by-row path, and holds
    the agency's import lock (:func:`lock_agency`), so no other import writes these keys now.

    1. With ``probe_first``, the keys already in the ledger are looked up with their digests
       (one unique-index probe per key). Without it the COPY below is tried first, in a
       savepoint: if any key is in the ledger already, the unique index refuses the COPY, the
       savepoint undoes it, and the probe is made after all (a file imported for the first time
       never pays for the probe; the caller passes ``probe_first`` after a batch with old keys).
    2. The new calls are COPYed straight into the ledger: PostgreSQL's multi-row insert path,
       about half the server time of ``INSERT ... SELECT ... ON CONFLICT`` per row (measured on
       the 2-core VM: 11.9 vs 22 us).
    3. Their counts per (call type, beat, day) are added in one upsert.
    Returns (calls counted, their local days in the agency's zone, keys already in the ledger
    with another digest as 32 hex digits, i.e. changed rows, which the caller applies row by
    row; whether any key was in the ledger already).
    """
    from psycopg.errors import UniqueViolation

    new: Sequence[str] = lines
    changed: list[str] = []
    found: dict[str, str] = {}
    copied = False
    if not probe_first:
        try:
            with transaction.atomic():
                _copy_into_ledger(agency_id, category, lines)
            copied = True
        except UniqueViolation:
            probe_first = True
    if probe_first:
        found = dict(existing_digests(agency_id=agency_id, keys=[line[:32] for line in lines]))
        if found:
            new = []
            for line in lines:
                old = found.get(line[:32])
                if old is None:
                    new.append(line)
                elif old != line[_DIGEST]:
                    changed.append(line[:32])
    if not new:
        return 0, [], changed, bool(found)
    if not copied:
        _copy_into_ledger(agency_id, category, new)
    _add_other_counts(agency_id, category, Counter(line[_GROUP] for line in new))
    days = sorted(dt.date.fromisoformat(d) for d in {line[_MARK] for line in new})
    return len(new), days, changed, bool(found)


def _add_other_counts(agency_id: uuid.UUID, category: str, groups: Counter[str]) -> None:
    """``calls += n`` per group (``call_type TAB unit_code TAB day`` in COPY text). The groups
    already counted are updated in one statement (a join over the batch's days only); the new
    ones are COPYed into the table: an upsert costs about 33 us per group on the 2-core VM, and
    a batch of a time-ordered file has thousands of new groups (call type x beat x day). Safe
    without ``ON CONFLICT`` because the caller holds the agency's import lock and only imports
    write call counts."""
    qn = connection.ops.quote_name
    counts, stage = qn(CallCount._meta.db_table), qn(_COUNTS_STAGE)
    first = min(group[-10:] for group in groups)
    last = max(group[-10:] for group in groups)
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (call_type text, unit_code text, day date, "
            "calls integer) ON COMMIT DELETE ROWS"
        )
        with cur.cursor.copy(f"COPY {stage} FROM STDIN") as copy:
            copy.write("".join([f"{group}\t{n}\n" for group, n in groups.items()]))
        cur.execute(
            f"UPDATE {counts} c SET calls = c.calls + s.calls FROM {stage} s "  # noqa: S608
            "WHERE c.agency_id = %s AND c.category = %s AND c.day BETWEEN %s AND %s "
            "AND c.call_type = s.call_type AND c.unit_code = s.unit_code AND c.day = s.day "
            "RETURNING s.call_type, s.unit_code, s.day",
            [agency_id, category, first, last],
        )
        done = {
            f"{copy_text(call_type)}\t{copy_text(unit)}\t{day.isoformat()}"
            for call_type, unit, day in cur.fetchall()
        }
        tail = f"\t{agency_id}\t{category}\n"
        new = [f"{group}\t{n}{tail}" for group, n in groups.items() if group not in done]
        if new:
            with cur.cursor.copy(
                f"COPY {counts} (call_type, unit_code, day, calls, agency_id, category) FROM STDIN"
            ) as copy:
                copy.write("".join(new))
        cur.execute(f"TRUNCATE {stage}")


def _copy_into_ledger(agency_id: uuid.UUID, category: str, lines: Sequence[str]) -> None:
    ledger = connection.ops.quote_name(ImportedCall._meta.db_table)
    tail = f"\t{category}\t{agency_id}\n"
    step = max(1, COPY_CHUNK // 120)
    with connection.cursor() as cur:
        with cur.cursor.copy(
            f"COPY {ledger} (source_key, digest, call_type, unit_code, day, category, agency_id) "
            "FROM STDIN"
        ) as copy:
            for i in range(0, len(lines), step):
                copy.write("".join([line[:-12] + tail for line in lines[i : i + step]]))


def existing_digests(*, agency_id: uuid.UUID, keys: Sequence[str]) -> list[tuple[str, str]]:
    """(key, digest) as 32 hex digits of the ledger rows of ``agency_id`` among ``keys``: one
    unique-index probe per key (see :func:`existing_rows` for why not ``ANY``)."""
    if not keys:
        return []
    table = connection.ops.quote_name(ImportedCall._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT l.source_key, l.digest FROM unnest(string_to_array(%s, ',')::uuid[]) "  # noqa: S608
            f"AS k(key) CROSS JOIN LATERAL (SELECT source_key, digest FROM {table} "
            "WHERE agency_id = %s AND source_key = k.key LIMIT 1) l",
            [",".join(keys), agency_id],
        )
        return [(key.hex, digest.hex) for key, digest in cur.fetchall()]
