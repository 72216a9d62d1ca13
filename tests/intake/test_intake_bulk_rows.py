"""The importer's fast row path stores exactly what the straightforward one did.

``check_id_for`` (kept SHA-1 states), ``RowBuilder.template`` with the batch ``Sealer``
(``envelope.CellSealer``), ``blind.address_key`` (ASCII fast path, precomputed HMAC pads) and the
COPY text formatter (``bulk.copy_text``) each replace a slower spelling of the same values; these
tests compare them with that spelling: the functions one by one on many inputs, and a whole real
file imported both ways, every column of every check and detail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import pickle
import random
import re
import unicodedata
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from wellcheck.accounts.models import Agency, Unit
from wellcheck.checks.models import CheckDetail, CheckState, RecordMode, Source, WellnessCheck
from wellcheck.core import blind
from wellcheck.crypto import envelope, keyring
from wellcheck.crypto.fields import EncryptedMixin
from wellcheck.crypto.scopes import scope_for_label
from wellcheck.intake import bulk, engine, services
from wellcheck.intake.models import CallCategory
from wellcheck.intake.testing import import_file, real_file

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s/]")


# The reference spellings (the code as it was before the fast path).
def _old_normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def _old_address_key(address: str) -> str:
    norm = _old_normalise(address)
    if not norm:
        return ""
    return hmac.new(blind._key("address_index_key"), norm.encode(), hashlib.sha256).hexdigest()


def _old_check_id(agency_id: uuid.UUID, source_key: str) -> uuid.UUID:
    return uuid.uuid5(services.CHECK_NS, f"{agency_id}:{source_key}")


def _old_check_row(
    ctx: services.ImportContext, call: Any, check_id: uuid.UUID, unit_id: int, now: Any
) -> list[Any]:
    mh = call.category == CallCategory.MENTAL_HEALTH
    return ctx.check_rows.row(
        dict(
            id=check_id,
            agency_id=ctx.agency.pk,
            unit_id=unit_id,
            state=CheckState.IMPORTED,
            record_mode=RecordMode.TALLY if ctx.tally else RecordMode.IDENTIFIED,
            source=Source.IMPORTED,
            source_key=call.source_key,
            received_at=call.received_at,
            outcome_id=ctx.outcome_ids.get(call.outcome) if call.outcome else None,
            mental_health_related=mh,
            mental_health_marked_at=now if mh else None,
            created_by_id=ctx.actor.pk if ctx.actor is not None else None,
            created_at=now,
            updated_at=now,
        )
    )


def _old_detail_row(rows: bulk.RowBuilder, check_id: uuid.UUID, call: Any, seal: Any) -> list[Any]:
    label = CheckDetail._meta.label_lower
    dek_id = keyring.current_key_id(scope_for_label(label))
    values = {
        "check_record_id": check_id,
        "incident_number": call.incident_number,
        "address": call.address,
        "address_key": _old_address_key(call.address),
        "latitude": call.latitude,
        "longitude": call.longitude,
    }

    def old_seal(field: Any, vals: dict[str, Any], value: Any) -> str | None:
        if not isinstance(field, EncryptedMixin):
            return None
        return envelope.encrypt(
            field.to_text(value),
            model_label=label,
            pk=vals["check_record_id"],
            field=field.name,
            dek_id=dek_id,
        )

    return rows.row(values, seal=old_seal)  # type: ignore[arg-type]


def _old_copy_rows(copy: Any, rows: Any) -> None:
    for row in rows:
        copy.write_row(row)


# --- one by one -----------------------------------------------------------------------------


def test_check_id_for_is_uuid5() -> None:
    rnd = random.Random(5)
    agencies = [uuid.uuid4() for _ in range(5)]
    alphabet = "0123456789ABCDEFabc-_: é中\U0001f600\t"
    for n in range(20000):
        agency = rnd.choice(agencies) if n % 7 else uuid.UUID(str(rnd.choice(agencies)))
        key = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 70)))
        got = services.check_id_for(agency, key)
        want = _old_check_id(agency, key)
        assert got == want and got.int == want.int and str(got) == str(want)
        assert got.version == 5 and got.variant == uuid.RFC_4122
        assert got.is_safe == want.is_safe and hash(got) == hash(want)
    assert pickle.loads(pickle.dumps(got)) == want  # noqa: S301 (our own bytes)
    # Other scopes and namespaces through the same kept states.
    ns = uuid.uuid4()
    for scope in ("x", 7, agencies[0]):
        assert bulk.scoped_uuid5(ns, scope, "k") == uuid.uuid5(ns, f"{scope}:k")


def test_address_key_and_normalise_unchanged() -> None:
    rnd = random.Random(3)
    chars = [chr(i) for i in range(0x3100)] + list("ﬁ\u2028\u3000İẞΣς\U0001d400")
    samples = [
        "",
        "   ",
        "4200 BLOCK EL CAJON BLVD",
        " 1ST AV/ MARKET ST,SD ",
        "N 27TH ST & W WELLS ST,MKE",
        "O'Brien\x1cRd\x1f",
        "Straße ﬁeld",
    ]
    samples += ["".join(rnd.choice(chars) for _ in range(rnd.randint(0, 25))) for _ in range(5000)]
    ascii_chars = [chr(i) for i in range(128)]
    samples += [
        "".join(rnd.choice(ascii_chars) for _ in range(rnd.randint(0, 40))) for _ in range(20000)
    ]
    for text in samples:
        assert blind.normalise_address(text) == _old_normalise(text), repr(text)
        assert blind.address_key(text) == _old_address_key(text), repr(text)


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_keyed_index_is_hmac_sha256(length: int, monkeypatch: pytest.MonkeyPatch) -> None:
    key = bytes(range(256))[:length] if length <= 256 else b""
    monkeypatch.setattr(blind, "_key", lambda name: key)
    blind._pads.cache_clear()
    try:
        for value in ["", "a", "4200 block el cajon blvd", "é" * 100]:
            want = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            assert blind.keyed_index(value, key_name="k") == want
    finally:
        blind._pads.cache_clear()


@pytest.mark.django_db
def test_cell_sealer_is_encrypt() -> None:
    label = CheckDetail._meta.label_lower
    dek_id = keyring.current_key_id(scope_for_label(label))
    pool = b"".join(bytes([k]) * 12 for k in range(256))
    cells = envelope.CellSealer("Checks.CheckDetail", dek_id, random_bytes=lambda n: pool[:n])
    pk = uuid.uuid4()
    k = 0
    for pk_given in (pk, str(pk), pk.hex):
        row = cells.row(pk_given)
        for field, text in [
            ("address", "4200 BLOCK"),
            ("incident_number", ""),
            ("latitude", "1.5"),
        ]:
            sealed = cells.seal(text, row, cells.tail(field))
            nonce, k = bytes([k]) * 12, k + 1  # the pool's next nonce
            assert sealed == envelope.encrypt(
                text, model_label=label, pk=pk, field=field, dek_id=dek_id, nonce=nonce
            )
            assert envelope.decrypt(sealed, model_label=label, pk=pk, field=field) == text
    for _ in range(2000):
        some = uuid.uuid4()
        assert cells.row(some) == f"checks.checkdetail:{some}".encode()
    # Fresh random nonces, each once (across refills of the pool).
    cells = envelope.CellSealer("checks.checkdetail", dek_id)
    sealed_all = [cells.seal("x", cells.row(pk), cells.tail("address")) for _ in range(10000)]
    assert len(set(sealed_all)) == 10000
    for sealed in sealed_all[::97]:
        assert envelope.decrypt(sealed, model_label=label, pk=pk, field="address") == "x"


@pytest.mark.django_db
def test_template_is_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same list as RowBuilder.row for the same values; sealed cells equal with equal nonces."""
    builder = bulk.RowBuilder(CheckDetail)
    names = (
        "check_record_id",
        "incident_number",
        "address",
        "address_key",
        "latitude",
        "longitude",
    )
    template = builder.template(names)
    assert builder.template(names) is template
    seal_a, seal_b = bulk.batch_sealer(CheckDetail), bulk.batch_sealer(CheckDetail)
    assert seal_a is not None and seal_b is not None
    for s in (seal_a, seal_b):  # the same nonce sequence for both
        monkeypatch.setattr(s._cells, "_random", lambda n: bytes(range(256)) * (n // 256 + 1))
    rnd = random.Random(9)
    for _ in range(300):
        values = (
            uuid.uuid4(),
            rnd.choice(["", "23-001", "é\t\\"]),
            rnd.choice(["", "4200 BLOCK EL CAJON BLVD", "x" * 300]),
            rnd.choice(["", "ab" * 32]),
            rnd.choice([None, Decimal("32.715736"), Decimal("-117.161087"), Decimal("0")]),
            rnd.choice([None, Decimal("-0.000001"), "12.5"]),
        )
        got = template(values, seal_a)
        want = builder.row(dict(zip(names, values, strict=True)), seal=seal_b)
        assert got == want
    # Without a sealer: the fields' own pre_save (random nonces): same plaintexts.
    pk = uuid.uuid4()
    values = (pk, "23-001", "1 MAIN ST", "k", Decimal("1.5"), None)
    got = template(values, None)
    fields = {f.attname: f for f in CheckDetail._meta.concrete_fields}
    for name, cell in zip(builder.names, got, strict=True):
        if isinstance(fields[name], EncryptedMixin) and cell:
            plain = envelope.decrypt(cell, model_label="checks.checkdetail", pk=pk, field=name)
            assert plain == str(dict(zip(names, values, strict=True))[name])
    with pytest.raises(ValueError):
        template(values[:-1], seal_a)
    # A plain model: one C-level loop; unknown names ignored as row() ignores them.
    checks = bulk.RowBuilder(WellnessCheck)
    now = timezone.now()
    vals = (uuid.uuid4(), "k", now, True, None)
    plain_names = ("id", "source_key", "received_at", "mental_health_related", "not_a_column")
    assert checks.template(plain_names)(vals) == checks.row(
        dict(zip(plain_names, vals, strict=True))
    )


# --- the COPY text formatter ----------------------------------------------------------------

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
EDGE_ROWS: list[list[Any]] = [
    [
        "plain",
        "tab\there",
        "back\\slash\\N",
        "new\nline\r\n",
        "",
        "unicode é 中 \U0001f600 \u2028",
        1,
        True,
        uuid.UUID("6b1f4a52-52f4-4a43-9d0b-2f7a3c1e9d10"),
        dt.datetime(2023, 1, 1, 8, 7, 53, tzinfo=dt.UTC),
        Decimal("32.715736"),
        dt.date(2023, 3, 12),
    ],
    [
        None,
        "\\",
        "\\t",
        "a\\\tb",
        " ",
        CheckState.IMPORTED,
        -(2**62),
        False,
        None,
        dt.datetime(2023, 3, 12, 2, 30, 0, 250000, tzinfo=LA),
        Decimal("-0.000001"),
        None,
    ],
    [
        "x",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        uuid.uuid5(uuid.NAMESPACE_DNS, "x"),
        dt.datetime(1850, 1, 1, 0, 0, tzinfo=LA),  # an offset with seconds (LMT)
        Decimal("1E+2"),
        dt.date(1, 1, 1),
    ],
    [
        "x",
        "y",
        "z",
        "w",
        "v",
        "u",
        0,
        None,
        uuid.UUID(int=0),
        dt.datetime(2023, 11, 5, 1, 30, tzinfo=LA, fold=1),
        Decimal("0E-8"),
        dt.date(9999, 12, 31),
    ],
]
EDGE_TYPES = [
    "text", "text", "text", "text", "text", "text",
    "bigint", "boolean", "uuid", "timestamptz", "numeric", "date",
]  # fmt: skip


def test_copy_text_edge_values() -> None:
    text = bulk.copy_text(EDGE_ROWS)
    assert text is not None
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(EDGE_ROWS) + 1
    first = lines[0].split("\t")
    assert first[:6] == [
        "plain",
        "tab\\there",
        "back\\\\slash\\\\N",
        "new\\nline\\r\\n",
        "",
        "unicode é 中 \U0001f600 \u2028",
    ]
    assert first[6:] == [
        "1",
        "t",
        "6b1f4a5252f44a439d0b2f7a3c1e9d10",
        "2023-01-01T08:07:53+00:00",
        "32.715736",
        "2023-03-12",
    ]
    second = lines[1].split("\t")
    assert second[0] == "\\N" and second[1] == "\\\\" and second[2] == "\\\\t"
    assert second[3] == "a\\\\\\tb" and second[5] == "imported" and second[7] == "f"
    assert second[8] == "\\N" and second[11] == "\\N"
    assert lines[2].split("\t")[1:8] == ["\\N"] * 7
    # Kinds it does not handle: None, so the caller lets psycopg write the chunk.
    for odd in (
        1.5,
        b"bytes",
        dt.datetime(2023, 1, 1),  # naive
        Decimal("NaN"),
        "nul\x00",
        [1],
        {"a": 1},
        dt.time(1, 2),
    ):
        assert bulk.copy_text([[odd], [None]]) is None, odd
    assert bulk.copy_text([[1, 2], [3]]) is None
    assert bulk.copy_text([[1], [True]]) is None  # two kinds in one column
    assert bulk.copy_text([]) == ""


@pytest.mark.django_db
def test_copy_text_stores_what_write_row_stores() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    cols = ", ".join(f"c{i} {t}" for i, t in enumerate(EDGE_TYPES))
    with connection.cursor() as cur:
        for table in ("hw_a", "hw_b"):
            cur.execute(f"CREATE TEMP TABLE {table} (n serial, {cols})")
        names = ", ".join(f"c{i}" for i in range(len(EDGE_TYPES)))
        with cur.cursor.copy(f"COPY hw_a ({names}) FROM STDIN") as copy:
            _old_copy_rows(copy, EDGE_ROWS)
        with cur.cursor.copy(f"COPY hw_b ({names}) FROM STDIN") as copy:
            bulk.copy_rows(copy, EDGE_ROWS)
        cur.execute(f"SELECT {names} FROM hw_a ORDER BY n")  # noqa: S608
        a = cur.fetchall()
        cur.execute(f"SELECT {names} FROM hw_b ORDER BY n")  # noqa: S608
        b = cur.fetchall()
    assert len(a) == len(EDGE_ROWS) and a == b
    # Exactly equal: text values, and the instants and digits stored.
    assert a[0][:6] == tuple(EDGE_ROWS[0][:6])
    assert [r[9].timestamp() for r in b] == [r[9].timestamp() for r in EDGE_ROWS]  # instants
    assert [r[10] for r in b] == [r[10] for r in EDGE_ROWS]  # numerically


# --- a whole real file, both ways -----------------------------------------------------------


def _stored(agency: Agency) -> dict[str, Any]:
    """Every column of the agency's checks and details, by source key; encrypted cells opened
    (their nonces are random) with their data key id kept; the agency's own ids left out."""
    qn = connection.ops.quote_name
    out: dict[str, Any] = {}
    check_cols = [str(f.column) for f in WellnessCheck._meta.concrete_fields]
    detail_fields = list(CheckDetail._meta.concrete_fields)
    units = dict(Unit.objects.filter(agency=agency).values_list("pk", "code"))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(qn(c) for c in check_cols)} FROM checks_wellnesscheck "  # noqa: S608
            "WHERE agency_id = %s",
            [agency.pk if connection.vendor == "postgresql" else agency.pk.hex],
        )
        checks = [dict(zip(check_cols, r, strict=True)) for r in cur.fetchall()]
        cur.execute(
            f"SELECT {', '.join(qn(str(f.column)) for f in detail_fields)} FROM checks_checkdetail"  # noqa: S608
        )
        details = {}
        for r in cur.fetchall():
            details[str(uuid.UUID(str(r[0])))] = r
    for c in checks:
        pk = uuid.UUID(str(c["id"]))
        assert pk == _old_check_id(agency.pk, c["source_key"])
        c["id"] = "<uuid5>"
        c["agency_id"] = "<agency>"
        c["unit_id"] = units[c["unit_id"]]
        detail = details.get(str(pk))
        cells = {}
        if detail is not None:
            for f, v in zip(detail_fields, detail, strict=True):
                if f.attname == "check_record_id":
                    continue
                if isinstance(f, EncryptedMixin) and v:
                    key_id = envelope.key_id_of(v)
                    v = (
                        key_id,
                        envelope.decrypt(v, model_label="checks.checkdetail", pk=pk, field=f.name),
                    )
                cells[f.attname] = v
        out[c["source_key"]] = (c, cells)
    return out


@pytest.mark.django_db
def test_real_file_fast_and_old_paths_store_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    if not real_file("san_diego").exists():
        pytest.skip("the real data folder ../shared/data/cfs is absent")
    fixed = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: fixed)
    captured: list[tuple[Any, list[Any], Any]] = []
    copy_new = bulk.copy_new

    def capture(
        model: Any, names: Any, rows: Any, *, prepared: bool = False, text: Any = None
    ) -> None:
        captured.append((model, list(rows), text))
        copy_new(model, names, rows, prepared=prepared, text=text)

    monkeypatch.setattr(bulk, "copy_new", capture)
    # PostgreSQL: the checks' rows made ahead in the parsing process, as COPY lines.
    ahead_agency = Agency.objects.create(name="ahead", slug="aheadpd")
    import_file(ahead_agency, "san_diego", batch_size=5000)
    ahead = _stored(ahead_agency)
    if connection.vendor == "postgresql":
        assert {m for m, _, _ in captured} == {WellnessCheck, CheckDetail}
        checks = [(rows, text) for m, rows, text in captured if m is WellnessCheck]
        assert checks and all(not rows and text for rows, text in checks)  # lines, no rows
        if engine.RENDER_DETAILS_AHEAD:
            details = [(rows, text) for m, rows, text in captured if m is CheckDetail]
            assert details and all(not rows and text for rows, text in details)
    captured.clear()
    # The rows made by the writer (its preparing thread).
    with monkeypatch.context() as m:
        m.setattr(engine, "RENDER_AHEAD", False)
        new = Agency.objects.create(name="new", slug="newpd")
        import_file(new, "san_diego", batch_size=5000)
        fast = _stored(new)
    assert all(rows for _, rows, _ in captured)

    monkeypatch.setattr(bulk, "copy_new", copy_new)
    with monkeypatch.context() as m:
        m.setattr(services, "check_id_for", _old_check_id)
        m.setattr(services, "_check_row", _old_check_row)
        m.setattr(services, "_detail_row", _old_detail_row)
        m.setattr(bulk, "copy_rows", _old_copy_rows)
        m.setattr(engine, "PIPELINE", False)  # the old detail row encrypts through the ORM
        old_agency = Agency.objects.create(name="old", slug="oldpd")
        import_file(old_agency, "san_diego", batch_size=5000)
        old = _stored(old_agency)

    assert len(fast) == 1865 and sum(1 for _, d in fast.values() if d) == 1865
    assert fast.keys() == old.keys() == ahead.keys()
    for key in fast:
        assert fast[key] == old[key], key
        assert ahead[key] == old[key], key

    # The rows the fast path built, COPYed once by psycopg's write_row and once as formatted
    # here, into two scratch tables: the same rows.
    if connection.vendor != "postgresql":
        return
    for model, _ in {m: 0 for m, _, _ in captured}.items():
        rows = [r for m, rs, _ in captured if m is model for r in rs]
        table = model._meta.db_table
        cols = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
        with connection.cursor() as cur:
            for scratch, write in (("hw_old", _old_copy_rows), ("hw_new", bulk.copy_rows)):
                cur.execute(f"CREATE TEMP TABLE {scratch} (LIKE {table})")
                with cur.cursor.copy(f"COPY {scratch} ({cols}) FROM STDIN") as copy:
                    write(copy, rows)
            cur.execute("SELECT count(*) FROM hw_new")
            assert cur.fetchall() == [(len(rows),)]
            cur.execute(
                "SELECT count(*) FROM (SELECT * FROM hw_old EXCEPT ALL SELECT * FROM hw_new) d"
            )
            assert cur.fetchall() == [(0,)]
            cur.execute(
                "SELECT count(*) FROM (SELECT * FROM hw_new EXCEPT ALL SELECT * FROM hw_old) d"
            )
            assert cur.fetchall() == [(0,)]
            cur.execute("DROP TABLE hw_old, hw_new")
