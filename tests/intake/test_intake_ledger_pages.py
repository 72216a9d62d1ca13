"""Ledger pages (``intake.ledger``): the packed format round-trips, and a new page kept as the
batch's columns (``NewPage``) reads, changes and encodes exactly like the same page as a dict."""

from __future__ import annotations

import json
import random
import uuid

import numpy as np
import pytest

from wellcheck.intake.bulk import uuid_of
from wellcheck.intake.ledger import (
    HAS_CHECK,
    Book,
    LedgerError,
    NewPage,
    TableStrings,
    decode,
    encode,
)
from wellcheck.intake.parse import NO_VAL


def _groups() -> list[tuple[str, str, str, str]]:
    return [
        ("other", "415", "523", "2023-06-01"),
        ("other", "T", "UNKNOWN", "2023-06-01"),
        ("welfare_check", "CW", "523", "2023-06-02"),
        ("other", 'ta\tb\\c "q"', "5\n23", "2023-06-02"),  # codes with awkward characters
        ("other", "ü", "", "2023-06-03"),
    ]


def _columns(n: int, seed: int = 1) -> tuple[bytes, np.ndarray, list[bytes]]:
    rnd = random.Random(seed)
    keys = [rnd.randbytes(8) for _ in range(n)]
    assert len(set(keys)) == n
    gids = np.array([rnd.randrange(5) for _ in range(n)], dtype=np.uint32)
    return b"".join(keys), gids, keys


def test_dict_page_round_trips() -> None:
    rnd = random.Random(3)
    page = {
        rnd.randbytes(8): (rnd.randbytes(8), rnd.choice(_groups()), rnd.choice([0, HAS_CHECK]))
        for _ in range(500)
    }
    assert decode(encode(page)) == page
    assert decode(encode({})) == {}


def test_new_page_reads_changes_and_encodes_like_a_dict() -> None:
    raw, gids, keys = _columns(300)
    table = _groups()
    page = NewPage(raw, gids, table)
    as_dict = page.to_dict()
    assert len(page) == len(as_dict) == 300
    for i, key in enumerate(keys):
        assert page.get(key) == as_dict[key] == (NO_VAL, table[int(gids[i])], 0)
    # a key whose bytes straddle two entries is not found (alignment)
    assert page.get(raw[4:12]) is None
    assert decode(encode(page)) == as_dict

    book = Book.__new__(Book)
    book.pages, book.dirty = {7: page}, set()
    new_key = b"\x01" * 8
    book.put(7, new_key, (b"\x02" * 8, table[2], HAS_CHECK))  # a check added: stays columnar
    assert isinstance(book.pages[7], NewPage) and 7 in book.dirty
    as_dict[new_key] = (b"\x02" * 8, table[2], HAS_CHECK)
    assert decode(encode(book.pages[7])) == as_dict
    book.put(7, keys[5], (b"\x03" * 8, table[1], 0))  # a columnar entry changed: now a dict
    assert isinstance(book.pages[7], dict)
    as_dict[keys[5]] = (b"\x03" * 8, table[1], 0)
    assert book.pages[7] == as_dict
    assert decode(encode(book.pages[7])) == as_dict


def test_damaged_pages_are_refused() -> None:
    blob = encode({b"k" * 8: (NO_VAL, _groups()[0], 0)})
    with pytest.raises(LedgerError):
        decode(blob[:-1])
    with pytest.raises(LedgerError):
        decode(b"\x09" + blob[1:])


def test_a_page_with_more_than_65535_groups_round_trips() -> None:
    """Group indexes are 16 bits unless a page has more groups (or strings) than that."""
    page = {
        i.to_bytes(8, "big"): (
            NO_VAL if i % 3 else b"v" * 8,
            ("other", f"T{i}", "1", "2023-01-01"),
            0,
        )
        for i in range(70_000)
    }
    blob = encode(page)
    assert blob[1] == 1  # wide
    assert decode(blob) == page
    assert encode(dict(list(page.items())[:10]))[1] == 0


def test_new_pages_of_one_table_share_its_strings_and_encode_like_dicts() -> None:
    """A batch's new pages share one ``TableStrings``; each page's string table holds only the
    strings of its own groups, plus those of the entries added to it (new groups, and groups
    also in the table: listed twice, read the same)."""
    rnd = random.Random(7)
    table = [
        (
            rnd.choice(["other", "mental_health"]),
            f"T{rnd.randrange(40)}",
            f"{rnd.randrange(9)}",
            f"2023-06-{rnd.randrange(1, 29):02d}",
        )
        for _ in range(3000)
    ]
    strings = TableStrings(table)
    assert [tuple(strings.strings[i] for i in row) for row in strings.parts.tolist()] == table
    for seed in range(5):
        rnd = random.Random(seed)
        n = rnd.randrange(1, 1500)
        keys = [rnd.randbytes(8) for _ in range(n)]
        gids = np.array([rnd.randrange(len(table)) for _ in range(n)], dtype=np.uint32)
        page = NewPage(b"".join(keys), gids, table, strings)
        expected = page.to_dict()
        assert decode(encode(page)) == expected
        blob = encode(page)
        used = {x for i in gids.tolist() for x in table[i]}
        assert set(json.loads(blob[-(len(blob) - blob.rindex(b'["')) :])) == used
        for k in range(seed * 3):
            key = rnd.randbytes(8)
            group = table[rnd.randrange(len(table))] if k % 2 else ("welfare_check", "CW", "1", "x")
            page.extra[key] = (rnd.randbytes(8), group, HAS_CHECK)
            expected[key] = page.extra[key]
        assert decode(encode(page)) == expected


def test_a_new_page_with_more_than_65535_groups_round_trips() -> None:
    table = [("other", f"T{i}", "1", "2023-01-01") for i in range(70_000)]
    keys = [i.to_bytes(8, "big") for i in range(70_000)]
    page = NewPage(b"".join(keys), np.arange(70_000, dtype=np.uint32), table)
    page.extra[b"x" * 8] = (b"v" * 8, ("welfare_check", "CW", "1", "2023-01-01"), HAS_CHECK)
    blob = encode(page)
    assert blob[1] == 1  # wide
    assert decode(blob) == page.to_dict()


def test_uuid_of_is_uuid_of_its_text() -> None:
    for _ in range(200):
        u = uuid.uuid4()
        v = uuid_of(str(u))
        assert v == u and str(v) == str(u) and hash(v) == hash(u) and v.version == 4


@pytest.mark.django_db(transaction=True)
def test_a_run_holds_the_agencys_import_lock_until_it_ends() -> None:
    """PostgreSQL: the pages kept in memory between batches are safe because no other import of
    the agency can take its lock while a run holds it (another session's try fails)."""
    import psycopg
    from django.db import connection

    from wellcheck.intake.bulk import hash_lock
    from wellcheck.intake.ledger import agency_session_lock

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's (SQLite has one writer)")
    import uuid

    agency_id = uuid.uuid4()
    key = hash_lock(agency_id)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:

        def other_can_lock() -> bool:
            got = other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
            if got:
                other.execute("SELECT pg_advisory_unlock(%s)", [key])
            return bool(got)

        assert other_can_lock()
        with agency_session_lock(agency_id):
            assert not other_can_lock()
        assert other_can_lock()


def test_dense_unique_is_numpys_unique() -> None:
    from wellcheck.intake.ledger import _dense_unique

    rng = np.random.default_rng(5)
    for bound, shape in ((1, (0,)), (7, (40,)), (3000, (900,)), (500, (120, 4))):
        values = rng.integers(0, bound, size=shape) if shape != (0,) else np.zeros(0, int)
        uniq, inverse = _dense_unique(values, bound)
        want_uniq, want_inverse = np.unique(values, return_inverse=True)
        assert uniq.tolist() == want_uniq.tolist()
        assert inverse.tolist() == want_inverse.reshape(-1).tolist()
