"""``wellcheck keys rotate|status|retire``: key rotation and its report (no key material shown)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.crypto import rotation


class Command(BaseCommand):
    help = "Rotate encryption keys while the application runs, report key status, retire old keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="New KEK and data keys; re-encrypt in batches.")
        rotate.add_argument(
            "--data-keys",
            choices=["global", "all", "none"],
            default="global",
            help="Data keys that get a successor: global (default), all (persons too), none.",
        )
        rotate.add_argument("--no-kek", action="store_true", help="Keep the current KEK.")
        rotate.add_argument("--batch", type=int, default=500)
        rotate.add_argument(
            "--retire", action="store_true", help="Destroy KEKs no data key needs afterwards."
        )
        sub.add_parser("status", help="Keys and what uses them, as JSON.")
        sub.add_parser("retire", help="Destroy KEKs that no live data key is wrapped by.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "status":
            self.stdout.write(json.dumps(rotation.status(), indent=2, sort_keys=True))
            return
        if action == "retire":
            self._retired(rotation.retire_keks())
            return
        report = rotation.rotate(
            kek=not options["no_kek"], data_keys=options["data_keys"], batch=options["batch"]
        )
        if options["retire"]:
            report.kek_destroyed = rotation.retire_keks()
        audit_record(
            actor=None,
            event_type=EventType.KEYS_ROTATED,
            component="cli",
            details={
                "new_kek": report.new_kek,
                "rewrapped": report.rewrapped,
                "new_data_keys": report.new_data_keys,
                "values_reencrypted": report.values_reencrypted,
                "kek_destroyed": report.kek_destroyed,
            },
        )
        self.stdout.write(
            f"New KEK: {report.new_kek or '(unchanged)'}; data keys rewrapped: {report.rewrapped}; "
            f"new data keys: {report.new_data_keys}; rows re-encrypted: "
            f"{report.values_reencrypted}; KEKs destroyed: {', '.join(report.kek_destroyed) or '-'}"
        )

    def _retired(self, destroyed: list[str]) -> None:
        audit_record(
            actor=None,
            event_type=EventType.KEK_RETIRED,
            component="cli",
            details={"kek_destroyed": destroyed},
        )
        self.stdout.write(f"KEKs destroyed: {', '.join(destroyed) or '-'}")
