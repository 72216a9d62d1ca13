"""Writes for the web upload: store an uploaded export and queue its import; open the rejects.

Kept apart from ``intake.services`` (the batch write path) by sub-domain; same rules: typed,
keyword-only, in a transaction, audited.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from wellcheck.accounts.models import User
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.profiles import load_profile
from wellcheck.intake.services import empty_counters

UPLOAD_CHUNK = 1 << 20


@transaction.atomic
def import_run_queue(*, actor: User, profile_name: str, upload: Any) -> ImportRun:
    """Store an uploaded export (streamed to disk, hashed) and queue its import as a background
    job for the actor's agency. The job starts after this transaction commits."""
    from wellcheck.intake.tasks import run_import_job

    profile = load_profile(profile_name)
    run_id = uuid.uuid4()
    folder = Path(settings.DATA_DIR) / "imports"
    target = folder / "uploads" / f"{run_id}.csv"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for chunk in upload.chunks(UPLOAD_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    run = ImportRun.objects.create(
        id=run_id,
        agency_id=actor.agency_id,
        profile_name=profile.name,
        profile_digest=profile.digest,
        file_name=Path(upload.name).name[:255],
        file_sha256=digest.hexdigest(),
        file_size=size,
        upload_path=str(target),
        reject_path=str(folder / "rejects" / f"{run_id}.csv"),
        started_by=actor,
        counters=empty_counters(),
        status=RunStatus.QUEUED,
    )
    transaction.on_commit(lambda: run_import_job.enqueue(str(run_id)))
    return run


def import_rejects_opened(*, actor: User, run: ImportRun) -> Any:
    """Open a run's reject file for download; the disclosure is audited (it may hold rows)."""
    audit_record(
        actor=actor,
        event_type=EventType.EXPORT,
        target=run,
        component="web",
        details={"what": "import rejects", "bytes": run.reject_bytes},
    )
    return Path(run.reject_path).open("rb")
