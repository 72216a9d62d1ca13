"""Moving events older than the retention period to a file that still verifies on its own.

An archive covers events ``first_seq..last_seq`` where ``last_seq`` is the size of a signed
checkpoint, so the file carries the proof of its own content: every event with its hashes, the
Merkle frontier of whatever came before it (an earlier archive), and that signed checkpoint.
``verify_archive(path)`` re-checks all of it without the database.

Order of work: the file is written and synced first; then, in one transaction, the archive row is
inserted and the events deleted (the DELETE trigger allows exactly the rows an archive covers). A
crash in between leaves a spare file and an unchanged database.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wellcheck.audit.canonical import FIELDS_V1, GENESIS, VERSION, chain_hash
from wellcheck.audit.canonical_v2 import versioned_bytes
from wellcheck.audit.chain import chain_tail, lock_chain
from wellcheck.audit.checkpoints import checkpoint_create
from wellcheck.audit.events import EventType
from wellcheck.audit.merkle import Frontier
from wellcheck.audit.models import AuditArchive, AuditCheckpoint, AuditEvent
from wellcheck.audit.services import audit_record
from wellcheck.audit.signing import CheckpointError, open_note, origin
from wellcheck.audit.verify import Problem, Report, iter_rows

FORMAT = "wellcheck-audit-archive"


class ArchiveError(RuntimeError):
    """The archive cannot be written (nothing old enough, a broken chain, a bad cutoff)."""


def retention_cutoff() -> dt.datetime:
    days = int(getattr(settings, "WELLCHECK_AUDIT_RETENTION_DAYS", 365))
    return timezone.now() - dt.timedelta(days=days)


def _previous() -> tuple[int, str, Frontier]:
    last = AuditArchive.objects.order_by("-last_seq").first()
    if last is None:
        return 0, GENESIS, Frontier()
    return last.last_seq, last.last_hash, Frontier.from_json(last.last_seq, last.frontier)


def _range_end(before: dt.datetime, after_seq: int) -> AuditCheckpoint | None:
    """The newest checkpoint that covers only events older than ``before``."""
    tail_seq, _ = chain_tail()
    candidate = (
        AuditEvent.objects.filter(occurred_at__lt=before, seq__lt=tail_seq)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if candidate is None:
        return None
    return (
        AuditCheckpoint.objects.filter(tree_size__gt=after_seq, tree_size__lte=candidate)
        .order_by("-tree_size")
        .first()
    )


def archive_events(
    *, before: dt.datetime | None = None, directory: Path | None = None
) -> AuditArchive | None:
    """Archive the events older than ``before`` (default: the retention cutoff). None if none."""
    cutoff = retention_cutoff()
    if before is None:
        before = cutoff
    elif before > cutoff:
        raise ArchiveError(
            f"events must be kept {settings.WELLCHECK_AUDIT_RETENTION_DAYS} days: "
            f"--before may be at most {cutoff:%Y-%m-%d}"
        )
    checkpoint_create()
    first_after, prev_hash, frontier = _previous()
    end = _range_end(before, first_after)
    if end is None:
        return None
    directory = directory or Path(settings.WELLCHECK_AUDIT_ARCHIVE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-{first_after + 1:012d}-{end.tree_size:012d}.jsonl"
    sha, last_hash, frontier = _write(path, first_after, prev_hash, frontier, end)
    with transaction.atomic():
        lock_chain()
        record = AuditArchive.objects.create(
            first_seq=first_after + 1,
            last_seq=end.tree_size,
            last_hash=last_hash,
            frontier=frontier.to_json(),
            file_name=path.name,
            file_sha256=sha,
            event_count=end.tree_size - first_after,
            archived_at=timezone.now(),
        )
        AuditEvent.objects.filter(seq__gt=first_after, seq__lte=end.tree_size).delete()
        audit_record(
            actor=None,
            event_type=EventType.AUDIT_ARCHIVED,
            component="cli",
            target=record,
            details={
                "first_seq": record.first_seq,
                "last_seq": record.last_seq,
                "file": record.file_name,
                "sha256": sha,
            },
        )
    return record


def _write(
    path: Path, after: int, prev: str, frontier: Frontier, end: AuditCheckpoint
) -> tuple[str, str, Frontier]:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "origin": origin(),
        "first_seq": after + 1,
        "last_seq": end.tree_size,
        "prev_hash": prev,
        "frontier_before": frontier.to_json(),
    }
    digest = hashlib.sha256()
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:

        def put(obj: dict[str, Any]) -> None:
            line = json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n"
            digest.update(line.encode())
            fh.write(line)

        put(header)
        expected = after + 1
        for values in iter_rows(after + 1):
            seq = values[0]
            if seq > end.tree_size:
                break
            if seq != expected or values[18] != prev:
                raise ArchiveError(f"chain broken at event {expected}: run `audit verify`")
            row = _row(values)
            if chain_hash(prev, _canonical(row)) != row["row_hash"]:
                raise ArchiveError(f"event {seq} does not match its hash: run `audit verify`")
            put(row)
            frontier.append(bytes.fromhex(row["row_hash"]))
            prev = row["row_hash"]
            expected += 1
        if expected != end.tree_size + 1:
            raise ArchiveError(f"events missing before {end.tree_size}: run `audit verify`")
        put({"checkpoint": end.note})
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return digest.hexdigest(), prev, frontier


def _row(values: list[Any]) -> dict[str, Any]:
    row = dict(zip(FIELDS_V1, values[:17], strict=True))
    for name in ("recipients", "changes", "details"):
        if isinstance(row[name], str | bytes):
            row[name] = json.loads(row[name])
    row.update(canon_version=values[17], prev_hash=values[18], row_hash=values[19])
    return row


def _canonical(row: dict[str, Any]) -> bytes:
    return versioned_bytes(row.get("canon_version", VERSION), [row[name] for name in FIELDS_V1])


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def verify_archive(path: Path, *, verifier: tuple[str, Any] | None = None) -> Report:
    """Check an archive file alone: chain, hashes, and the signed checkpoint at its end."""
    report = Report()
    lines = _lines(path)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT:
        report.problem = Problem(0, "format", f"{path.name} is not an audit archive")
        return report
    expected, prev = header["first_seq"], header["prev_hash"]
    frontier = Frontier.from_json(expected - 1, header["frontier_before"])
    report.first_seq = expected
    note = None
    for row in lines:
        if "checkpoint" in row:
            note = row["checkpoint"]
            break
        seq = row["seq"]
        if seq != expected:
            report.problem = Problem(expected, "missing", f"event {expected} is missing")
            return report
        try:
            digest = chain_hash(row["prev_hash"], _canonical(row))
        except ValueError:  # unknown version, a value that cannot be serialised, bad hex
            digest = ""
        if digest != row["row_hash"]:
            report.problem = Problem(seq, "altered", f"event {seq} does not match its hash")
            return report
        if row["prev_hash"] != prev:
            report.problem = Problem(seq - 1, "rewritten", f"event {seq - 1} was rewritten")
            return report
        frontier.append(bytes.fromhex(row["row_hash"]))
        prev = row["row_hash"]
        expected += 1
        report.events += 1
    report.last_seq = expected - 1
    if note is None or report.last_seq != header["last_seq"]:
        report.problem = Problem(expected, "truncated", "the archive file is cut short")
        return report
    if verifier is None:
        report.notes.append("no public key given: the checkpoint signature was not checked")
        signed_root = bytes.fromhex(_root_of(note))
    else:
        try:
            point = open_note(note, verifier[0], verifier[1])
        except CheckpointError as exc:
            report.problem = Problem(report.last_seq, "signature", str(exc))
            return report
        if point.tree_size != report.last_seq:
            report.problem = Problem(report.last_seq, "checkpoint", "checkpoint size differs")
            return report
        signed_root = point.root
    if frontier.root() != signed_root:
        report.problem = Problem(
            report.last_seq, "checkpoint", "events differ from the signed checkpoint"
        )
    report.checkpoints = 1
    return report


def _root_of(note: str) -> str:
    return base64.b64decode(note.split("\n")[2]).hex()
