"""The vectorised reader (``intake.fastcsv``: pyarrow, numpy, AES in bulk) gives exactly what the
Python reader gives: the same batches, fast ledger entries, parsed calls and rejects, row by row,
on the three real files, generated files, edge rows, irregular files (where it hands over to the
Python reader mid-file) and resumed runs. Pure parsing: no database.
"""

from __future__ import annotations

import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wellcheck.intake import fastcsv, producer
from wellcheck.intake.parse import Call, _call_fields
from wellcheck.intake.profiles import load_profile
from wellcheck.intake.testing import real_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_sandiego import HEADER, generate  # noqa: E402

pytestmark = pytest.mark.skipif(fastcsv.pa is None, reason="pyarrow is not installed")


def _messages(path: Path, profile_name: str, *, vectorised: bool, **kw: Any) -> list[Any]:
    profile = load_profile(profile_name)
    job = producer.Job(
        path=path,
        profile=profile,
        tally=kw.get("tally", False),
        mark_zone=zoneinfo.ZoneInfo(kw.get("zone", profile.time_zone)),
        batch_size=kw.get("batch_size", 700),
        skip=kw.get("skip", 0),
        fast=True,
        vectorised=vectorised,
    )
    out: list[Any] = []
    producer.produce(job, lambda m: out.append(m) is None)
    return out


def _view(messages: list[Any]) -> list[Any]:
    """A batch as comparable data: its fast entries (as a set: their order in the batch does
    not matter, each is its key's first occurrence), calls and rejects in file order."""
    view: list[Any] = []
    for m in messages:
        if isinstance(m, producer.Batch):
            o = m.others
            entries = {
                (
                    bytes(o.keys[8 * i : 8 * i + 8]),
                    o.buckets[i],
                    o.group_table[o.groups[i]],
                    o.mark_table[o.marks[i]],
                )
                for i in range(len(o))
            }
            # Every field of every call, its time as text too (an equal instant in another
            # zone would compare equal).
            calls = [
                (*_call_fields(c), c.received_at.isoformat())
                for c in m.calls
                if isinstance(c, Call)
            ]
            rejects = [(r.line, r.reason, r.values) for r in m.rejects]
            view.append(("batch", m.consumed, m.tail, len(o), entries, calls, rejects))
        elif isinstance(m, producer.End):
            view.append(("end", m.consumed, m.notes))
        else:
            view.append(("failed", m.message))
    return view


def _same(path: Path, profile_name: str, **kw: Any) -> list[Any]:
    fast = _view(_messages(path, profile_name, vectorised=True, **kw))
    slow = _view(_messages(path, profile_name, vectorised=False, **kw))
    assert fast == slow
    return fast


@pytest.mark.parametrize("name", ["san_diego", "milwaukee", "berkeley"])
def test_real_files_read_the_same(name: str) -> None:
    path = real_file(name)
    if not path.exists():
        pytest.skip("the real data folder ../shared/data/cfs is absent")
    view = _same(path, name)
    assert sum(b[3] for b in view if b[0] == "batch") > 0 or name == "berkeley"


@pytest.mark.parametrize("skip", [0, 1, 699, 700, 2100, 2999])
def test_generated_file_reads_the_same_when_resumed(tmp_path: Path, skip: int) -> None:
    path = generate(3000, tmp_path / "gen.csv")
    view = _same(path, "san_diego", skip=skip)
    assert view[-1][:2] == ("end", 3000)
    if skip == 0:
        assert sum(b[3] for b in view if b[0] == "batch") > 2500  # most rows took the fast path


@pytest.mark.parametrize("tally", [False, True])
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "America/New_York"])
def test_edge_rows_read_the_same(tmp_path: Path, tally: bool, zone: str) -> None:
    from tests.intake.test_intake_fast_path import _edge_file

    _same(_edge_file(tmp_path), "san_diego", tally=tally, zone=zone)


def _rows(n: int, start: int = 0) -> list[str]:
    out = []
    for i in range(start, start + n):
        call = "CW" if i % 9 == 0 else "415"
        out.append(
            f'"E2300{i:07d}","2023-03-{1 + i % 28:02d} 0{i % 10}:1{i % 6}:00","1","100","",'
            f'"MAIN","ST","","","","{call}","K","{500 + i % 7}","2"'
        )
    return out


HEAD = ",".join(f'"{h}"' for h in HEADER)


@pytest.mark.parametrize(
    "trouble",
    [
        "",  # regular throughout
        "\n",  # a blank line
        '"E23999","2023-03-01 10:00:00","1","100","","MAIN\nST","","","","","415","K","501","2"\n',
        HEAD + "\n",  # a repeated header (daily files concatenated)
        ",,,,,,,,,,,,,\n",  # a row of empty fields
        '"E23998","2023-03-01 10:00:00","1","1""00","","MAIN","ST","","","","415","K","501","2"\n',
        '"E23997","2023-03-01 10:00:00","1","100","","MAIN","ST","","","","415","K","501"\n',
        '"E23996","2023-03-01 10:00:00","1","100","","MAIN","ST","","","","415","K","501","2",'
        '"x"\n',
        "E23995,2023-03-01 10:00:00,1,100,,MAIN,ST,,,,415,K,501,2\r\n",
        '"E23994","2023-03-01\r10:00:00","1"\n',  # a lone carriage return
        "E23993,no time,1,100,,MAIN,ST,,,,415,K,501,2\n",
        "E23992,2023-03-01 10:00:00,1,100,,MAIN,ST,,,,415,K,501,2\n" * 2,  # a key twice
    ],
)
def test_irregular_rows_hand_over_to_the_python_reader(tmp_path: Path, trouble: str) -> None:
    """Trouble in the middle of a file: the blocks before it are vectorised, the rest is read
    by the Python reader; together they give what the Python reader gives alone."""
    path = tmp_path / "t.csv"
    body = "\n".join(_rows(3000)) + "\n" + trouble + "\n".join(_rows(3000, 5000)) + "\n"
    path.write_text(HEAD + "\n" + body, encoding="utf-8")
    old = fastcsv.BLOCK
    fastcsv.BLOCK = 64 << 10  # several blocks in a small file
    try:
        _same(path, "san_diego")
        _same(path, "san_diego", skip=3001)
    finally:
        fastcsv.BLOCK = old


def test_invalid_utf8_and_bom_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    body = ("\n".join(_rows(500)) + "\n").encode()
    bad = (
        b'"E23990","2023-03-01 10:00:00","1","100","","M\xe9IN","ST","","","","415","K","501","2"\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode() + b"\n" + body + bad + body)
    _same(path, "san_diego")


def test_keys_repeated_across_blocks_of_a_batch_read_the_same(tmp_path: Path) -> None:
    """An incident number seen again in a later block of the same batch is not a first
    occurrence (the batch's keys so far, kept sorted and searched per block), and one seen
    again in the next batch is."""
    rows = _rows(4000)
    for i in range(300, 4000, 97):  # each repeats a row some 150-300 rows (blocks) earlier
        rows[i] = rows[i - 150 - i % 151].replace("2023-03-", "2023-04-")
    path = tmp_path / "r.csv"
    path.write_text(HEAD + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = fastcsv.BLOCK
    fastcsv.BLOCK = 8 << 10  # about 80 rows a block: a batch spans many blocks
    try:
        view = _same(path, "san_diego", batch_size=1000)
        _same(path, "san_diego", batch_size=1000, skip=1500)
    finally:
        fastcsv.BLOCK = old
    repeated = sum(len(b[5]) for b in view if b[0] == "batch")
    assert repeated > 30  # the repeats took the full parse, as in the Python reader


@pytest.mark.parametrize("vectorised", [True, False])
def test_a_batch_lists_each_count_group_once(tmp_path: Path, vectorised: bool) -> None:
    """A batch's count groups are numbered in the order met and listed once, however many blocks
    (each with its own tables of call types, beats and days) and Python rows meet them; each
    group's entries point at it. The numbering is decoded in bulk per block (``_add_fast_rows``)."""
    # Beats change every 40 rows and days every row: each block meets groups of earlier blocks
    # and new ones.
    rows = [
        r.replace(f',"{500 + i % 7}",', f',"{600 + (i // 40) % 13}",')
        for i, r in enumerate(_rows(3000))
    ]
    rows[1500] = rows[1500].replace('"2023-03-', '"2023-3-')  # a row for the Python reader
    path = tmp_path / "g.csv"
    path.write_text(HEAD + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = fastcsv.BLOCK
    fastcsv.BLOCK = 8 << 10  # about 80 rows a block: a batch spans many blocks
    try:
        messages = _messages(path, "san_diego", vectorised=vectorised, batch_size=1000)
    finally:
        fastcsv.BLOCK = old
    batches = [m for m in messages if isinstance(m, producer.Batch)]
    assert len(batches) == 3
    for batch in batches:
        o = batch.others
        table = o.group_table
        assert len(set(table)) == len(table)  # each group once
        expected = {
            (producer.OTHER, "415", str(600 + (i // 40) % 13), f"2023-03-{1 + i % 28:02d}")
            for i in range(3000)
            if i % 9
        }
        assert set(table) <= expected
        used = sorted(set(o.groups))
        assert used == list(range(len(table)))  # every listed group is used, numbered densely
        first_use = [o.groups.index(g) for g in used]
        if not vectorised:
            assert first_use == sorted(first_use)  # numbered in the order met


@pytest.mark.parametrize("cache_limit", [fastcsv.SUFFIX_CACHE_LIMIT, 2])
def test_incident_suffixes_of_any_width_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_limit: int
) -> None:
    """The entry key's block holds an incident number's last characters when they fit in 7
    bytes (``SUFFIX_MAX``); wider ones (multi-byte characters) take a keyed hash. The vectorised
    reader caches each suffix's half of the block per file, also when the cache is emptied
    (a limit of 2 empties it again and again): the keys are still the Python reader's."""
    monkeypatch.setattr(fastcsv, "SUFFIX_CACHE_LIMIT", cache_limit)
    monkeypatch.setattr(fastcsv, "BLOCK", 16 << 10)  # several blocks: the cache is reused
    suffixes = [
        "123",
        "\u00e9\u00e8\u00ea",
        "\u20ac\u20ac\u20ac",
        "\U0001f600" * 3,
        "4\u20ac5",
        "77",
    ]
    rows = [
        row.replace(f'"E2300{i:07d}"', f'"E23{i:05d}{suffixes[i % len(suffixes)]}"', 1)
        for i, row in enumerate(_rows(2400))
    ]
    path = tmp_path / "s.csv"
    path.write_text(HEAD + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    view = _same(path, "san_diego")
    assert sum(b[3] for b in view if b[0] == "batch") > 1500  # most rows took the fast path


def test_a_rejected_row_does_not_make_its_number_a_repeat(tmp_path: Path) -> None:
    """A row the parse rejects (no parseable time) is no call: the next row with the same
    incident number is still its number's first call (a fast entry), in the same block or a
    later one, as in the Python reader. Found by the random rows below."""
    rows = _rows(3000)
    for i in range(100, 3000, 37):  # row i is rejected; row i + 1, or one blocks later, repeats it
        rows[i] = rows[i].replace('"2023-03-', '"not a time 2023-03-', 1)
        j = i + 1 if i % 2 else min(i + 150, 2999)
        number = rows[i].split(",", 1)[0]
        rows[j] = number + "," + rows[j].split(",", 1)[1]
    path = tmp_path / "rejected.csv"
    path.write_text(HEAD + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    old = fastcsv.BLOCK
    fastcsv.BLOCK = 8 << 10  # about 80 rows a block
    try:
        view = _same(path, "san_diego", batch_size=1000)
    finally:
        fastcsv.BLOCK = old
    assert sum(len(b[6]) for b in view if b[0] == "batch") == len(range(100, 3000, 37))


def test_pyarrow_trims_whitespace_as_python_does() -> None:
    """The vectorised reader trims the incident number and the time with pyarrow, the Python
    reader with ``str.strip``: keys are equal only if both strip the same characters. Checked
    for every code point, leading and trailing, in an ASCII-only array too (pyarrow may take
    another way for it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for texts in ([f"{ch}x{ch}" for ch in points], [f"{chr(c)}x{chr(c)}" for c in range(128)]):
        trimmed = pc.utf8_trim_whitespace(pa.array(texts)).to_pylist()
        assert trimmed == [t.strip() for t in texts]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\nc,d\n", (2, False)),
        (b"a,b\r\nc,d\r\n", (2, False)),
        (b"a,b\rc,d\n", (1, True)),  # a lone carriage return
        (b"a,b\r\nc,d\r", (1, True)),  # one at the very end
        (b"", (0, False)),
    ],
)
def test_line_ends_of_a_block(data: bytes, expected: tuple[int, bool]) -> None:
    assert fastcsv._line_ends(data) == expected
    block = fastcsv.Block(first_line=2, start=0, data=data)  # counted when not given
    assert (block.newlines, block.lone_cr) == expected


_ANY = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=5,
)
_SPACES = st.sampled_from(["", " ", "\t", "\u00a0", "\u2003", "\x1f", "\u3000"])


@st.composite
def _padded(draw: Any, core: Any) -> str:
    return str(draw(_SPACES) + draw(core) + draw(_SPACES))


_INCIDENT = st.one_of(
    st.from_regex(r"E23[0-9]{6}", fullmatch=True),
    st.builds(str.__add__, st.from_regex(r"E2[0-9]{3}", fullmatch=True), _ANY),
    _ANY,
)
_TIME = st.one_of(
    st.builds(
        "2023-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}".format,
        st.sampled_from([1, 3, 11]),
        st.sampled_from([1, 5, 12]),  # 2023-03-12 and 2023-11-05: the DST changes in Los Angeles
        st.sampled_from([" ", "T"]),
        st.integers(0, 24),
        st.integers(0, 60),
        st.integers(0, 60),
    ),
    _ANY,
)
_TYPE = st.one_of(st.sampled_from(["415", "CW", "cw", "5150", "5150v", "T", "", "x" * 41]), _ANY)
_BEAT = st.one_of(st.sampled_from(["523", "-1", "", "b" * 41]), _ANY)
# A San Diego row of random values: incident number, time, call type, beat, road, disposition.
_RANDOM_ROW = st.tuples(
    _padded(_INCIDENT), _padded(_TIME), _padded(_TYPE), _padded(_BEAT), _ANY, _ANY
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        _RANDOM_ROW,
        min_size=1,
        max_size=40,
    )
)
def test_random_rows_read_the_same(rows: list[tuple[str, ...]]) -> None:
    """Rows of any text (spaces of every kind around the values, multi-byte characters, line
    breaks inside quoted values, times that do not exist or repeat in the profile's zone, codes
    of every case and length): the vectorised reader gives what the Python reader gives. (NUL
    is left out: a file holding one is refused as binary, by both.) Run with 5,000 examples
    when written; it found a rejected row's incident number making the next row with the same
    number a repeat in the vectorised reader, not in the Python reader."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = _random_file(rows, folder)
        _same(path, "san_diego", batch_size=16)


def _random_file(rows: list[tuple[str, ...]], folder: str) -> Path:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(HEADER)
    for incident, when, call_type, beat, road, disposition in rows:
        address = ["100", "", road, "ST", "", "", ""]
        writer.writerow([incident, when, "1", *address, call_type, disposition, beat, "2"])
    path = Path(folder) / "random.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        _RANDOM_ROW,
        min_size=1,
        max_size=60,
    ),
    done=st.integers(1, 3),
    vectorised=st.booleans(),
)
def test_random_rows_resume_where_a_clean_run_is(
    rows: list[tuple[str, ...]], done: int, vectorised: bool
) -> None:
    """A run resumed after ``done`` committed batches reads exactly the batches a clean run
    reads after them, and ends the same (what makes a killed import's rerun exact). Run with
    1,500 examples when written."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = _random_file(rows, folder)
        kw: dict[str, Any] = {"vectorised": vectorised, "batch_size": 16}
        clean = _view(_messages(path, "san_diego", **kw))
        resumed = _view(_messages(path, "san_diego", skip=16 * done, **kw))
    batches = [m for m in clean if m[0] == "batch"]
    assert resumed[:-1] == batches[done:]
    assert resumed[-1] == clean[-1]
