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

import datetime as dt
import decimal
import hashlib
import uuid
import zoneinfo
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any

from django.db import connection, models, transaction

_UUID = uuid.UUID
_UUID_NEW = object.__new__
_UUID_SET_INT = uuid.UUID.__dict__["int"].__set__  # the slots, as UUID.__init__ sets them
_UUID_SET_SAFE = uuid.UUID.__dict__["is_safe"].__set__
_UUID_UNKNOWN = uuid.SafeUUID.unknown
_UUID5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID5_BITS = (0x8000 << 48) | (5 << 76)
_uuid5_last: tuple[Any, Any, Any] = (None, None, None)  # namespace, scope, sha1 state
_uuid5_states: dict[tuple[uuid.UUID, str], Any] = {}


def scoped_uuid5(namespace: uuid.UUID, scope: object, name: str) -> uuid.UUID:
    """``uuid.uuid5(namespace, f"{scope}:{name}")``, for many names in one scope: the SHA-1 state
    after ``namespace`` and ``"<scope>:"`` is kept (the last one used, and a few hundred in a
    table), and the version and variant bits are set as ``uuid.UUID(bytes=..., version=5)``
    sets them. ``scope`` is immutable (a UUID, a string)."""
    global _uuid5_last
    last_ns, last_scope, state = _uuid5_last
    if namespace is not last_ns or scope is not last_scope:
        key = (namespace, str(scope))
        state = _uuid5_states.get(key)
        if state is None:
            if len(_uuid5_states) > 512:
                _uuid5_states.clear()
            state = _uuid5_states[key] = hashlib.sha1(  # noqa: S324 (uuid5 is SHA-1 by definition)
                namespace.bytes + f"{scope}:".encode(), usedforsecurity=False
            )
        _uuid5_last = (namespace, scope, state)
    h = state.copy()
    h.update(name.encode())
    value = _UUID_NEW(_UUID)
    _UUID_SET_INT(value, (int.from_bytes(h.digest()[:16], "big") & _UUID5_CLEAR) | _UUID5_BITS)
    _UUID_SET_SAFE(value, _UUID_UNKNOWN)
    return value


def uuid_of(text: str) -> uuid.UUID:
    """``uuid.UUID(text)`` for a UUID's canonical text (as ``str`` gives it), without the
    constructor's parsing."""
    value = _UUID_NEW(_UUID)
    _UUID_SET_INT(value, int(text.replace("-", ""), 16))
    _UUID_SET_SAFE(value, _UUID_UNKNOWN)
    return value


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


class Sealer:
    """The encryptor of one batch of a model's rows without a person (the global data-key
    scope), from :func:`batch_sealer`: called as ``seal(field, values, value)`` it returns the
    cell's ciphertext, exactly what the field's ``pre_save`` would store (bound to its table, row
    and field), or None for a field that is not encrypted. :meth:`RowBuilder.template` uses
    :meth:`row` and :meth:`cell` so the row's part of the binding is computed once per row."""

    def __init__(self, model: type[models.Model], cells: Any, encrypted: Any) -> None:
        self.pk_name = model._meta.pk.attname
        self._cells = cells  # wellcheck.crypto.envelope.CellSealer
        self._encrypted = encrypted
        self.row: Callable[[Any], bytes] = cells.row
        self.tail: Callable[[str], bytes] = cells.tail
        self.cell: Callable[[str, bytes, bytes], str] = cells.seal

    def __call__(self, field: Any, values: dict[str, Any], value: Any) -> str | None:
        if not isinstance(field, self._encrypted):
            return None
        cells = self._cells
        return cells.seal(  # type: ignore[no-any-return]
            field.to_text(value), cells.row(values[self.pk_name]), cells.tail(field.name)
        )


def batch_sealer(model: type[models.Model]) -> Sealer | None:
    """An encryptor for one batch of ``model`` rows without a person (the global data-key scope):
    the active data key is looked up once, then each cell is encrypted and bound to its table,
    row and field exactly as the field's ``pre_save`` would (``wellcheck.crypto``). Returns None
    altogether when the crypto layer is absent."""
    try:
        from wellcheck.crypto import envelope, keyring
        from wellcheck.crypto.fields import EncryptedMixin
        from wellcheck.crypto.scopes import scope_for_label
    except ImportError:  # pragma: no cover (the crypto layer is part of WellCheck)
        return None
    label = model._meta.label_lower
    dek_id = keyring.current_key_id(scope_for_label(label))
    return Sealer(model, envelope.CellSealer(label, dek_id), EncryptedMixin)


def _text_as_is(field: Any) -> bool:
    """Whether the field's ``to_text`` of a ``str`` is that string (``str(value)``)."""
    from wellcheck.crypto.fields import EncryptedMixin

    return type(field).to_text is EncryptedMixin.to_text  # type: ignore[no-any-return]


def _text_of(field: Any) -> Callable[[Any], str]:
    """The field's ``to_text``, with a finite ``Decimal`` for a decimal field done inline
    (``to_python`` of a finite Decimal is an equal Decimal, so ``str`` gives the same text)."""
    to_text = field.to_text
    if (
        isinstance(field, models.DecimalField)
        and type(field).to_python is models.DecimalField.to_python
    ):
        Decimal = decimal.Decimal
        return lambda v: str(v) if type(v) is Decimal and v.is_finite() else to_text(v)
    return to_text  # type: ignore[no-any-return]


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
        self._templates: dict[tuple[str, ...], Template] = {}

    def template(self, names: tuple[str, ...]) -> Template:
        """A row maker for values given positionally in the order of ``names`` (kept per
        builder): ``template(names)(values, seal)`` is ``row(dict(zip(names, values)), seal=seal)``
        with the name lookups done once."""
        tpl = self._templates.get(names)
        if tpl is None:
            tpl = self._templates[names] = Template(self, names)
        return tpl

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


_consume: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend

# PostgreSQL COPY text format (https://www.postgresql.org/docs/current/sql-copy.html): columns
# separated by tabs, rows by newlines, NULL as \N, and a backslash, tab, newline or carriage
# return in a value escaped with a backslash.
COPY_NULL = "\\N"
COPY_CHUNK = 8192  # rows per copy.write
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_BOOL_TEXT = {True: "t", False: "f", None: COPY_NULL}
_FIXED_TZ = (dt.timezone, zoneinfo.ZoneInfo)  # tzinfo types whose utcoffset is never None
_tzinfo = attrgetter("tzinfo")
# Kinds whose equal values are stored as the same value (not Decimal: 1.0 and 1.00 differ).
_SAME_IF_EQUAL = frozenset({int, uuid.UUID, dt.datetime, dt.date})


def copy_escape(value: str) -> str:
    """A text as a field of PostgreSQL's COPY text format (backslash escapes)."""
    return value.translate(_COPY_ESCAPES)


def _copy_column(column: Sequence[Any]) -> Sequence[str] | None:
    """One column of a chunk of rows as COPY text fields, the text psycopg's own dumpers would
    send for these values (so the stored values are the same), or None if a value is not one
    of the plain kinds handled here (the caller then lets psycopg write the chunk).

    Handled: None; ``str`` and its subclasses (choices: their string value); exact ``bool``,
    ``int``, ``uuid.UUID``, ``datetime.date``, aware ``datetime.datetime`` and finite
    ``decimal.Decimal``, one kind per column (besides None)."""
    kinds = set(map(type, column))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return [COPY_NULL] * len(column)
    if all(issubclass(k, str) for k in kinds):
        text = "".join(filter(None, column))
        if "\x00" in text:
            return None  # psycopg refuses NUL in text: let it say so
        if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
            column = [v if v is None else copy_escape(v) for v in column]
        return [COPY_NULL if v is None else v for v in column] if nulls else column
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    values = [v for v in column if v is not None] if nulls else column
    if kind is bool:
        return list(map(_BOOL_TEXT.__getitem__, column))
    if (
        not nulls
        and kind in _SAME_IF_EQUAL
        and values[0] is values[-1]
        and values.count(values[0]) == len(values)
    ):
        values = values[:1]  # one value all along (an agency's id, a batch's "now"): once
    if kind is int:
        texts = list(map(str, values))
    elif kind is uuid.UUID:
        # 32 hex digits, as psycopg sends them (UUID.hex); PostgreSQL reads them without hyphens
        texts = [v.int.to_bytes(16, "big").hex() for v in values]
    elif kind is dt.datetime:
        zones = set(map(_tzinfo, values))
        if not all(isinstance(z, _FIXED_TZ) for z in zones):
            if None in zones or any(v.utcoffset() is None for v in values):
                return None  # naive: psycopg's own rules
        # isoformat() costs a microsecond: once per distinct value (a batch's "now" repeats).
        # Equal aware datetimes are the same instant, one timestamptz whatever their zone.
        if len(set(values[:64])) * 2 <= min(64, len(values)):
            text_of = {v: v.isoformat() for v in set(values)}
            texts = list(map(text_of.__getitem__, values))
        else:
            texts = [v.isoformat() for v in values]
    elif kind is dt.date:
        texts = [v.isoformat() for v in values]
    elif kind is decimal.Decimal:
        if not all(v.is_finite() for v in values):
            return None
        texts = list(map(str, values))
    else:
        return None
    if not nulls:
        return texts if len(texts) == len(column) else texts * len(column)
    it = iter(texts)
    return [COPY_NULL if v is None else next(it) for v in column]


def copy_text(rows: Sequence[Sequence[Any]]) -> str | None:
    """Rows as COPY text (one line each, newline-terminated), or None if a value is not of a
    kind :func:`_copy_column` handles. Rows must all have the same number of columns."""
    if not rows:
        return ""
    if len(set(map(len, rows))) != 1:
        return None
    n = len(rows)
    # Runs of columns that hold one text in every row (NULLs mostly) are joined once.
    columns: list[Iterable[str]] = []
    constant: list[str] = []
    for column in zip(*rows, strict=True):
        if column.count(None) == n:
            constant.append(COPY_NULL)
            continue
        texts = _copy_column(column)
        if texts is None:
            return None
        if texts[0] == texts[-1] and texts.count(texts[0]) == n:
            constant.append(texts[0])
            continue
        if constant:
            columns.append(repeat("\t".join(constant), n))
            constant = []
        columns.append(texts)
    if constant:
        columns.append(repeat("\t".join(constant), n))
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def copy_rows(copy: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Write rows to a psycopg ``Copy`` (text format) in chunks of :data:`COPY_CHUNK`, formatted
    here (:func:`copy_text`); a chunk with a value of another kind goes through ``write_row``."""
    for at in range(0, len(rows), COPY_CHUNK):
        chunk = rows[at : at + COPY_CHUNK]
        text = copy_text(chunk)
        if text is None:
            for row in chunk:
                copy.write_row(row)
        else:
            copy.write(text)


class Template:
    """See :meth:`RowBuilder.template`. Encrypted fields are sealed with the batch's
    :class:`Sealer`, the row's part of their binding computed once per row; a name that is not a
    column is ignored (as :meth:`RowBuilder.row` does); anything unusual (a repeated name, a custom
    ``pre_save`` that is not encryption, no sealer) takes :meth:`RowBuilder.row` itself."""

    def __init__(self, builder: RowBuilder, names: tuple[str, ...]) -> None:
        from wellcheck.crypto.fields import EncryptedMixin

        self._builder = builder
        self.names = names
        self._defaults = builder._defaults
        pk_name = builder.model._meta.pk.attname
        self._pk = names.index(pk_name) if pk_name in names else -1
        self._plain: list[tuple[int, int, Any]] = []
        # (value index, column index, str as it is, to_text, field name, converter)
        self._sealed: list[tuple[int, int, bool, Callable[[Any], str], str, Any]] = []
        self._general = builder._per_row or len(set(names)) != len(names)
        for j, name in enumerate(names):
            spec = builder._index.get(name)
            if spec is None:
                continue
            i, f, custom, conv = spec
            if not custom:
                self._plain.append((j, i, conv))
            elif isinstance(f, EncryptedMixin) and self._pk >= 0:
                self._sealed.append((j, i, _text_as_is(f), _text_of(f), f.name, conv))
            else:
                self._general = True
        # Every name a plain column without conversion (PostgreSQL): one C-level loop.
        self._positions = (
            [i for _, i, _ in self._plain]
            if not self._general
            and len(self._plain) == len(names)
            and all(c is None for *_, c in self._plain)
            else None
        )
        self._last: tuple[Any, list[tuple[int, int, bool, Any, bytes, Any]]] = (None, [])

    def __call__(self, values: Sequence[Any], seal: Sealer | None = None) -> list[Any]:
        if len(values) != len(self.names):
            raise ValueError(f"{len(self.names)} values expected, {len(values)} given")
        out = self._defaults.copy()
        positions = self._positions
        if positions is not None:
            _consume(map(out.__setitem__, positions, values))
            return out
        if self._general or (self._sealed and seal is None):
            return self._builder.row(dict(zip(self.names, values, strict=True)), seal=seal)
        for j, i, conv in self._plain:
            value = values[j]
            out[i] = value if conv is None or value is None else conv(value)
        if self._sealed:
            assert seal is not None
            sealed = self._sealed_for(seal)
            cell = seal.cell
            row = None
            for j, i, as_is, text, tail, conv in sealed:
                value = values[j]
                if value is None or value == "":
                    out[i] = value if conv is None or value is None else conv(value)
                    continue
                if row is None:
                    row = seal.row(values[self._pk])
                out[i] = cell(value if as_is and type(value) is str else text(value), row, tail)
        return out

    def _sealed_for(self, seal: Sealer) -> list[tuple[int, int, bool, Any, bytes, Any]]:
        """The sealed columns with the field parts of their binding (per sealer: its key id)."""
        hit = self._last
        if hit[0] is not seal:
            hit = (
                seal,
                [
                    (j, i, as_is, text, seal.tail(name), conv)
                    for j, i, as_is, text, name, conv in self._sealed
                ],
            )
            self._last = hit
        return hit[1]


def insert_ignore(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: bool = False,
    text: str | None = None,
) -> None:
    """Insert rows, skipping any that conflict with a unique constraint already satisfied.
    ``prepared`` rows come from :class:`RowBuilder` and are written as they are. ``text``
    (PostgreSQL): the rows as COPY text already (then ``rows`` is not read)."""
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
            if any(c for _, c in cols):
                rows = [
                    [v if c is None else c(v) for v, (_, c) in zip(row, cols, strict=True)]
                    for row in rows
                ]
            with cur.cursor.copy(f"COPY {stage} ({col_sql}) FROM STDIN") as copy:
                if text is not None:
                    copy.write(text)
                else:
                    copy_rows(copy, rows if isinstance(rows, Sequence) else list(rows))
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
    text: str | None = None,
) -> None:
    """Insert rows the caller knows to be new (its ledger says so, under :func:`lock_agency`).
    ``text``: the rows already formatted by :func:`copy_text` (on the importer's preparing
    thread or its parsing process), streamed as it is; ``rows`` may then be empty.
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
    out = rows
    if any(convs):
        out = [[v if c is None else c(v) for v, c in zip(row, convs, strict=True)] for row in rows]
    try:
        with transaction.atomic(), connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {qn(model._meta.db_table)} ({col_sql}) FROM STDIN") as copy:
                if text is not None:
                    copy.write(text)
                else:
                    copy_rows(copy, out)
    except UniqueViolation:
        insert_ignore(model, names, rows, prepared=prepared, text=text)


def lock_agency(agency_id: uuid.UUID) -> None:
    """Serialise imports of one agency (PostgreSQL advisory lock, released at commit). SQLite
    serialises writers already (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [hash_lock(agency_id)])


def hash_lock(agency_id: uuid.UUID) -> int:
    return int.from_bytes(agency_id.bytes[:8], "big", signed=True) ^ 0x1A7A4E
