"""Rotation while another process reads and writes (PostgreSQL): nothing lost, all readable after,
old KEK destroyed once nothing needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from wellcheck.checks.models import CheckDetail
from wellcheck.crypto import keyring, rotation
from wellcheck.crypto.models import DataKey, DataKeyState
from wellcheck.crypto.providers import get_provider
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.testing.personas import make_world


def all_readable() -> dict[str, str]:
    keyring.reset_caches()
    out = {}
    for d in CheckDetail.objects.select_related("person"):
        out[str(d.pk)] = d.narrative
        assert d.address
        if d.person:
            assert d.person.family_name and d.person.given_name
    return out


@pytest.mark.django_db(transaction=True)
def test_rotation_while_another_process_reads_and_writes(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent rotation needs PostgreSQL (a second process on the same database)")
    world = make_world()
    expected: dict[str, str] = {}
    for i in range(40):
        check, _, _ = record_check(
            world,
            given=f"Given{i}",
            family=f"Family{i}",
            narrative=f"narrative {i}",
            minutes_ago=100 + i,
        )
        expected[str(check.pk)] = f"narrative {i}"
    old_kek = get_provider().current_kek_id()
    ids_file, stop, ready = tmp_path / "ids.json", tmp_path / "stop", tmp_path / "ready"
    ids_file.write_text(json.dumps(expected))
    db = connection.settings_dict
    env = {
        **os.environ,
        "WELLCHECK_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "WELLCHECK_KEY_DIR": str(settings.WELLCHECK_KEY_DIR),
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("rotation_worker.py")),
            str(world.officer_a.pk),
            str(stop),
            str(ready),
            str(ids_file),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)
        report = rotation.rotate(kek=True, data_keys="all", batch=7)
        time.sleep(0.5)
    finally:
        stop.write_text("stop")
        out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["counts"]["updates"] > 5 and result["counts"]["creates"] > 0
    assert report.new_kek != old_kek and report.rewrapped >= 41
    assert report.values_reencrypted >= 40
    # nothing lost: every value the worker last wrote, and every value before, reads back
    stored = all_readable()
    assert stored == result["expected"]
    # a final sweep leaves nothing on retired keys; then the old KEK can go
    rotation.reencrypt_sweep()
    status = rotation.status()
    assert set(status["values_by_key_state"]) == {"active"}, status
    destroyed = rotation.retire_keks()
    assert old_kek in destroyed and old_kek not in get_provider().kek_ids()
    assert all_readable() == result["expected"]
    assert Person.objects.count() == 40 + result["counts"]["creates"]


@pytest.mark.django_db(transaction=True)
def test_keys_command_rotates_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    world = make_world()
    check, _, person = record_check(world)
    call_command("keys", "rotate", "--data-keys", "global", "--retire")
    call_command("keys", "status")
    out = capsys.readouterr().out
    assert "New KEK: kek-" in out and '"current_kek"' in out
    assert DataKey.objects.filter(scope="global", state=DataKeyState.RETIRED).count() <= 1
    keyring.reset_caches()
    assert CheckDetail.objects.get(pk=check.pk).narrative == "Found safe at home."
    assert Person.objects.get(pk=person.pk).family_name == "Smith"
