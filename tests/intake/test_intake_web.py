"""The upload page: a background job (django-tasks db_worker) with progress, summary, rejects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from wellcheck.accounts.models import Agency, Unit, User
from wellcheck.accounts.permissions import Role
from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import WellnessCheck
from wellcheck.intake.models import ImportRun
from wellcheck.testing.personas import World

HEADER = (
    "incident_num,date_time,day_of_week,address_number_primary,address_dir_primary,"
    "address_road_primary,address_sfx_primary,address_dir_intersecting,"
    "address_road_intersecting,address_sfx_intersecting,call_type,disposition,beat,priority"
)
ROWS = [
    "E1,2023-01-01 10:00:00,1,1900,,05TH,AVE,,,,CW,K,A,2",
    "E2,2023-01-01 11:00:00,1,100,,MAIN,ST,,,,5150,A,B,1",
    "E3,not a time,1,100,,MAIN,ST,,,,FD,K,B,1",
    "E4,2023-01-01 12:00:00,1,100,,MAIN,ST,,,,FD,K,B,1",
]


@pytest.fixture(autouse=True)
def _committed(transactional_db: None) -> None:
    """The worker commits and closes its connection (as in production): no test transaction."""


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, text: str, capture: Callable[..., Any]) -> Any:
    with capture(execute=True):
        return client.post(
            reverse("intake:index"),
            {"profile": "san_diego", "file": SimpleUploadedFile("sd.csv", text.encode())},
        )


def test_records_officer_uploads_and_the_worker_imports(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = client_for(world.records)
    assert client.get(reverse("intake:index")).status_code == 200
    response = upload(client, "\n".join([HEADER, *ROWS]) + "\n", django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "intake:run", args=[run.pk]
    )
    page = client.get(response["Location"])
    assert b'http-equiv="refresh"' in page.content and b"Queued" in page.content
    assert not WellnessCheck.objects.exists()  # nothing happens until the worker runs

    call_command("db_worker", "--batch", "--no-startup-delay")

    run.refresh_from_db()
    assert run.status == "finished", run.message
    page = client.get(reverse("intake:run", args=[run.pk]))
    assert b'http-equiv="refresh"' not in page.content
    text = page.content.decode()
    assert "Rows read</th><td>4" in text and "Rows rejected</th><td>1" in text
    assert "· welfare checks</th><td>1" in text and "· mental-health related</th><td>1" in text
    assert WellnessCheck.objects.filter(agency=world.agency, unit=world.unit_a).count() == 1
    rejects = client.get(reverse("intake:rejects", args=[run.pk]))
    assert rejects.status_code == 200
    body = b"".join(rejects.streaming_content).decode()
    assert body.splitlines()[1].startswith("4,no parseable time")
    assert AuditEvent.objects.filter(event_type="export", target_id=str(run.pk)).count() == 1
    assert not Path(run.upload_path).exists()  # the upload is removed


def test_refused_upload_says_why_and_writes_nothing(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = client_for(world.records)
    upload(client, "just,some,words\n1,2,3\n", django_capture_on_commit_callbacks)
    call_command("db_worker", "--batch", "--no-startup-delay")
    run = ImportRun.objects.get()
    assert run.status == "refused"
    page = client.get(reverse("intake:run", args=[run.pk])).content.decode()
    assert "nothing was imported" in page and "no header with the columns" in page
    assert not WellnessCheck.objects.exists()


def test_who_may_import(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    assert client_for(world.officer_a).get(reverse("intake:index")).status_code == 403
    assert client_for(world.analyst).get(reverse("intake:index")).status_code == 403
    upload(
        client_for(world.records), "\n".join([HEADER, ROWS[0]]), django_capture_on_commit_callbacks
    )
    run = ImportRun.objects.get()
    other_agency = Agency.objects.get(slug="testpd-other")
    outsider = User.objects.create(
        username="other_records",
        agency=other_agency,
        role=Role.RECORDS,
        unit=Unit.objects.filter(agency=other_agency).first(),
    )
    other = client_for(outsider)
    assert other.get(reverse("intake:index")).status_code == 200
    assert other.get(reverse("intake:run", args=[run.pk])).status_code == 404
    assert other.get(reverse("intake:rejects", args=[run.pk])).status_code == 404
    assert b"sd.csv" not in other.get(reverse("intake:index")).content


@pytest.mark.parametrize("name", ["intake:index"])
def test_anonymous_is_sent_to_sign_in(db: None, name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302 and "login" in response["Location"]
