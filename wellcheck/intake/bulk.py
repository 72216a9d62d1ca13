"""The bulk path around the ORM, used only by ``intake.services`` inside its batch transaction.

PostgreSQL: ``COPY`` (psycopg 3) into a temporary staging table shaped like the target, then one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (:func:`insert_ignore`); the checks and details
of new calls, known new from the ledger under the agency's import lock, are COPYed straight into
their tables (:func:`copy_new`). The ledger itself is ``intake.ledger``.
SQLite: ``executemany`` of the same ``INSERT ... ON CONFLICT DO NOTHING``. Values are converted
with the model fields' own database conversion (UUIDs, datetimes, decimals), so both databases
store exactly what the ORM would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction


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
    nonces = envelope.NoncePool()

    def seal(field: Any, values: dict[str, Any], value: Any) -> str | None:
        if not isinstance(field, EncryptedMixin):
            return None
        return envelope.encrypt(
            field.to_text(value),
            model_label=label,
            pk=values[pk_name],
            field=field.name,
            dek_id=dek_id,
            nonce=nonces.take(),
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
        self._defaults: list[Any] = []
        self._index: dict[str, tuple[int, Any, bool, Any]] = {}
        self._per_row = False  # a pre_save field with a default of its own: the general loop
        for i, f in enumerate(self.fields):
            custom = type(f).pre_save not in plain
            default = None if f.has_default() and callable(f.default) else f.get_default()
            conv = _converter(f)
            self._plan.append((f, f.attname, custom, default, conv))
            self._index[f.attname] = (i, f, custom, conv)
            if custom and default not in (None, ""):
                self._per_row = True
            self._defaults.append(
                conv(default) if conv is not None and default is not None else default
            )

    def row(self, values: dict[str, Any], *, seal: Sealer | None = None) -> list[Any]:
        """``seal`` (from :func:`batch_sealer`) encrypts encrypted fields without a key lookup
        per cell; without it each such field runs its own ``pre_save``. Columns not in
        ``values`` take their default, converted once per batch."""
        if self._per_row:
            return self._row_general(values, seal=seal)
        out = self._defaults.copy()
        index = self._index
        instance = None
        for attname, value in values.items():
            spec = index.get(attname)
            if spec is None:
                continue
            i, f, custom, conv = spec
            if custom and value not in (None, ""):
                if seal is not None and (sealed := seal(f, values, value)) is not None:
                    out[i] = sealed
                    continue
                if instance is None:
                    instance = self.model(**values)
                value = f.get_db_prep_save(f.pre_save(instance, True), connection)
            elif conv is not None and value is not None:
                value = conv(value)
            out[i] = value
        return out

    def _row_general(self, values: dict[str, Any], *, seal: Sealer | None) -> list[Any]:
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
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    prepared: bool = False,
) -> None:
    """Insert rows the caller knows to be new (its ledger says so, under :func:`lock_agency`).
    PostgreSQL: ``COPY`` straight into the table, in a savepoint; should a row exist after all
    (a ledger pruned by hand), the savepoint is undone and the rows are inserted with
    ``ON CONFLICT DO NOTHING`` instead, so an existing record is never duplicated nor the batch
    lost. SQLite: ``executemany`` (:func:`insert_ignore`)."""
    if connection.vendor != "postgresql":
        insert_ignore(model, names, rows, prepared=prepared)
        return
    from psycopg.errors import UniqueViolation

    cols = table_columns(model, names)
    if prepared:
        cols = [(c, None) for c, _ in cols]
    convs = [c for _, c in cols]
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c, _ in cols)
    try:
        with transaction.atomic(), connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {qn(model._meta.db_table)} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    if any(convs):
                        row = [v if c is None else c(v) for v, c in zip(row, convs, strict=True)]
                    copy.write_row(row)
    except UniqueViolation:
        insert_ignore(model, names, rows, prepared=prepared)


def lock_agency(agency_id: uuid.UUID) -> None:
    """Serialise imports of one agency (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers already (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [hash_lock(agency_id)])


def hash_lock(agency_id: uuid.UUID) -> int:
    return int.from_bytes(agency_id.bytes[:8], "big", signed=True) ^ 0x1A7A4E
