"""RFC 6962 hashing, signed notes, the `audit` command's exit codes, and archive files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests.audit.helpers import build_chain, tamper
from wellcheck.audit.archive import archive_events, verify_archive
from wellcheck.audit.checkpoints import checkpoint_create, read_exported
from wellcheck.audit.events import EventType
from wellcheck.audit.merkle import Frontier, leaf_hash, merkle_root
from wellcheck.audit.models import AuditArchive, AuditEvent
from wellcheck.audit.services import audit_record
from wellcheck.audit.signing import (
    Checkpoint,
    CheckpointError,
    load_private_key,
    open_note,
    parse_verifier_key,
    sign,
    verifier_key,
)
from wellcheck.audit.verify import verify_chain
from wellcheck.testing.audit_asserts import assert_audited, audit_mark

# Certificate Transparency's reference leaves and tree heads for RFC 6962 (sizes 0..8).
RFC_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(9))
def test_merkle_root_matches_rfc6962_reference(size: int) -> None:
    leaves = [bytes.fromhex(h) for h in RFC_LEAVES[:size]]
    assert merkle_root(leaves).hex() == RFC_ROOTS[size]


def test_frontier_resumes_where_it_stopped() -> None:
    data = [bytes([i]) * 3 for i in range(37)]
    for cut in (0, 1, 5, 8, 16, 36):
        first = Frontier()
        for d in data[:cut]:
            first.append(d)
        resumed = Frontier.from_json(cut, first.to_json())
        for d in data[cut:]:
            resumed.append(d)
        assert resumed.root() == merkle_root(data)
    assert leaf_hash(b"").hex() == RFC_ROOTS[1]


def test_signed_note_round_trip_and_forgeries(tmp_path: Path, settings: object) -> None:
    settings.WELLCHECK_AUDIT_SIGNING_KEY_FILE = tmp_path / "key"  # type: ignore[attr-defined]
    key = load_private_key()
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    point = Checkpoint(origin="example.org/audit", tree_size=8, root=bytes.fromhex(RFC_ROOTS[8]))
    note = sign(point, key)
    lines = note.split("\n")
    assert lines[:3] == ["example.org/audit", "8", lines[2]] and lines[3] == ""
    assert lines[4].startswith("\u2014 example.org/audit ")
    name, public = parse_verifier_key(verifier_key("example.org/audit", key.public_key()))
    assert open_note(note, name, public) == point
    with pytest.raises(CheckpointError):
        open_note(note.replace("\n8\n", "\n9\n"), name, public)
    other = load_private_key(tmp_path / "other")
    with pytest.raises(CheckpointError):
        open_note(note, name, other.public_key())


def test_command_exit_codes_name_the_bad_event(db: None, tmp_path: Path, capsys: object) -> None:
    build_chain(6)
    call_command("audit", "checkpoint", "--export", str(tmp_path / "cp.txt"))
    assert len(read_exported(tmp_path / "cp.txt")) == 1
    mark = audit_mark()
    call_command("audit", "verify")
    assert_audited(EventType.AUDIT_READ, after=mark, count=1)
    tamper("UPDATE audit_auditevent SET actor_name = 'someone else' WHERE seq = 4")
    with pytest.raises(SystemExit) as stop:
        call_command("audit", "verify")
    assert stop.value.code == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "first bad event 4 (altered)" in err


def test_since_checkpoint_flag(db: None, capsys: object) -> None:
    build_chain(5)
    checkpoint_create()
    build_chain(2)
    call_command("audit", "verify", "--since-checkpoint")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "OK" in out and "2 events (seq 6..7)" in out


def test_archive_moves_old_events_to_a_file_that_verifies(
    db: None, tmp_path: Path, settings: object
) -> None:
    with time_machine.travel(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), tick=True):
        for i in range(6):
            audit_record(actor=None, event_type=EventType.CHECK_LISTED, details={"i": i})
        old = checkpoint_create()
    assert old is not None and old.tree_size == 6
    for i in range(3):
        audit_record(actor=None, event_type=EventType.CHECK_LISTED, details={"new": i})
    record = archive_events(directory=tmp_path)
    assert record is not None and (record.first_seq, record.last_seq) == (1, 6)
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [7, 8, 9, 10]  # +checkpoint
    file = tmp_path / record.file_name
    key = load_private_key()
    from wellcheck.audit.signing import origin

    file_report = verify_archive(file, verifier=(origin(), key.public_key()))
    assert file_report.ok and file_report.events == 6
    live = verify_chain()
    assert live.ok and live.first_seq == 7, live.problem
    # new events keep chaining after the archive; checkpoints over the whole log still verify
    audit_record(actor=None, event_type=EventType.CHECK_LISTED)
    assert checkpoint_create() is not None
    assert verify_chain().ok
    # an edited archive file is caught, at the edited event
    lines = file.read_text().splitlines()
    lines[3] = lines[3].replace('"i": 2', '"i": 7')
    file.write_text("\n".join(lines) + "\n")
    bad = verify_archive(file, verifier=(origin(), key.public_key()))
    assert bad.problem is not None and bad.problem.seq == 3


def test_archive_respects_retention_and_deletion_needs_an_archive(db: None) -> None:
    build_chain(3)
    from wellcheck.audit.archive import ArchiveError

    with pytest.raises(ArchiveError, match="must be kept"):
        archive_events(before=dt.datetime.now(dt.UTC))
    assert AuditArchive.objects.count() == 0
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE seq = 1")
