"""The background job behind the web upload, run by ``manage.py db_worker`` (django-tasks).

The job runs the same engine as the command. The uploaded file is deleted when the run ends
(finished or refused): the identifying data stays only where the policy allows it, in the records.
If the worker is killed, the run stays "running"; the next job for the same run resumes it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from django_tasks import task

from wellcheck.intake.engine import run_import
from wellcheck.intake.models import ImportRun, RunStatus
from wellcheck.intake.profiles import ProfileError, load_profile
from wellcheck.intake.services import import_run_close


@task()
def run_import_job(run_id: str) -> dict[str, Any]:
    """Import the uploaded file of ``run_id``; returns the JSON summary."""
    run = ImportRun.objects.select_related("agency", "started_by").get(pk=run_id)
    if run.status in (RunStatus.FINISHED, RunStatus.REFUSED):
        return {}
    upload = Path(run.upload_path)
    try:
        profile = load_profile(run.profile_name)
    except ProfileError as exc:
        import_run_close(run=run, status=RunStatus.REFUSED, message=str(exc))
        return {}
    result = run_import(
        agency=run.agency,
        profile=profile,
        path=upload,
        actor=run.started_by,
        reject_path=Path(run.reject_path) if run.reject_path else None,
        batch_size=run.batch_size,
        run=run,
        file_name=run.file_name,
    )
    with contextlib.suppress(FileNotFoundError):
        upload.unlink()
    return {} if result.refused else result.json_summary()
