"""``wellcheck audit <verify|checkpoint|archive|verify-archive|unusual>``.

Exit codes: 0 intact / done; 1 the chain, a checkpoint or an archive failed verification (the
first bad event is named on stderr); 2 a usage or configuration error.
"""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wellcheck.audit.archive import ArchiveError, archive_events, verify_archive
from wellcheck.audit.checkpoints import checkpoint_create, export_checkpoints, read_exported
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.audit.signing import (
    CheckpointError,
    load_private_key,
    origin,
    parse_verifier_key,
    verifier_key,
)
from wellcheck.audit.verify import Report, verify_chain


class Command(BaseCommand):
    help = "Verify, checkpoint and archive the tamper-evident audit trail."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check the whole chain and its checkpoints")
        verify.add_argument(
            "--since-checkpoint",
            action="store_true",
            help="check only the events after the newest signed checkpoint",
        )
        verify.add_argument("--public-key", help="the log's verifier key (name+hash+key)")
        verify.add_argument(
            "--checkpoints", type=Path, help="a file of exported checkpoints kept elsewhere"
        )
        point = sub.add_parser("checkpoint", help="sign a checkpoint at the chain's tail")
        point.add_argument("--export", type=Path, help="write every checkpoint to this file")
        point.add_argument(
            "--public-key", action="store_true", help="print the verifier key and exit"
        )
        archive = sub.add_parser("archive", help="move events past retention to a file")
        archive.add_argument("--before", help="YYYY-MM-DD (default: the retention cutoff)")
        archive.add_argument("--dir", type=Path, help="archive directory")
        check = sub.add_parser("verify-archive", help="check an archive file on its own")
        check.add_argument("file", type=Path)
        check.add_argument("--public-key", help="the log's verifier key")
        unusual = sub.add_parser("unusual", help="run the unusual-access rules now")
        unusual.add_argument("--days", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "verify":
                self._verify(options)
            elif action == "checkpoint":
                self._checkpoint(options)
            elif action == "archive":
                self._archive(options)
            elif action == "verify-archive":
                self._verify_archive(options)
            elif action == "unusual":
                self._unusual(options)
        except (CheckpointError, ArchiveError, OSError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _verify(self, options: dict[str, Any]) -> None:
        notes = read_exported(options["checkpoints"]) if options["checkpoints"] else []
        report = verify_chain(
            since_checkpoint=options["since_checkpoint"],
            verifier_key=options["public_key"],
            exported_notes=notes,
        )
        audit_record(
            actor=None,
            event_type=EventType.AUDIT_READ,
            component="cli",
            details={"action": "verify", "ok": report.ok, "events": report.events},
        )
        self._finish(report, "chain")

    def _finish(self, report: Report, what: str) -> None:
        for note in report.notes:
            self.stderr.write(f"note: {note}")
        rate = report.events / report.seconds if report.seconds else 0.0
        if report.problem is None:
            self.stdout.write(
                f"OK: {what} intact: {report.events} events (seq {report.first_seq}.."
                f"{report.last_seq}), {report.checkpoints} signed checkpoint(s) matched, "
                f"{report.seconds:.2f} s ({rate:,.0f} events/s)"
            )
            return
        problem = report.problem
        self.stderr.write(
            f"FAILED: first bad event {problem.seq} ({problem.kind}): {problem.message}"
        )
        sys.exit(1)

    def _checkpoint(self, options: dict[str, Any]) -> None:
        if options["public_key"]:
            self.stdout.write(verifier_key(origin(), load_private_key().public_key()))
            return
        point = checkpoint_create()
        if point is None:
            self.stdout.write("no new events since the last checkpoint")
        else:
            self.stdout.write(f"signed checkpoint at tree size {point.tree_size}:\n{point.note}")
        if options["export"]:
            count = export_checkpoints(options["export"])
            self.stdout.write(f"exported {count} checkpoint(s) to {options['export']}")

    def _archive(self, options: dict[str, Any]) -> None:
        before = None
        if options["before"]:
            day = dt.date.fromisoformat(options["before"])
            before = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        record = archive_events(before=before, directory=options["dir"])
        if record is None:
            self.stdout.write("nothing to archive (no signed checkpoint before the cutoff)")
            return
        self.stdout.write(
            f"archived events {record.first_seq}..{record.last_seq} to {record.file_name} "
            f"(sha256 {record.file_sha256})"
        )

    def _verify_archive(self, options: dict[str, Any]) -> None:
        key = options["public_key"]
        verifier = parse_verifier_key(key) if key else (origin(), load_private_key().public_key())
        self._finish(verify_archive(options["file"], verifier=verifier), "archive")

    def _unusual(self, options: dict[str, Any]) -> None:
        from wellcheck.audit.unusual import run_for_all_agencies

        end = timezone.now()
        reports = run_for_all_agencies(start=end - dt.timedelta(days=options["days"]), end=end)
        for report in reports:
            self.stdout.write(
                f"agency {report.agency_id}: {len(report.findings)} finding(s) (report {report.pk})"
            )
