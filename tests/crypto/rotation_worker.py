"""A separate process that reads and writes records until told to stop (used by the rotation test).

Prints one JSON line: the narratives it wrote last (check id -> text), and counts.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wellcheck.settings")
    django.setup()
    from django.db import transaction

    from wellcheck.accounts.models import User
    from wellcheck.checks.inputs import CheckInput, PersonInput
    from wellcheck.checks.models import CheckDetail
    from wellcheck.checks.services import check_create
    from wellcheck.testing.personas import recent

    actor_pk, stop_file, ready_file, ids_file = sys.argv[1:5]
    actor = User.objects.get(pk=int(actor_pk))
    expected: dict[str, str] = json.loads(Path(ids_file).read_text())
    ids = list(expected)
    counts = {"reads": 0, "updates": 0, "creates": 0}
    Path(ready_file).write_text("ready")
    i = 0
    deadline = time.monotonic() + 120
    while not Path(stop_file).exists() and time.monotonic() < deadline:
        i += 1
        cid = random.choice(ids)
        detail = CheckDetail.objects.select_related("person").get(pk=cid)
        if detail.narrative != expected[cid]:
            raise SystemExit(f"read mismatch on {cid}")
        _ = detail.person.family_name if detail.person else None
        counts["reads"] += 1
        with transaction.atomic():
            detail = CheckDetail.objects.select_for_update().get(pk=cid)
            detail.narrative = f"worker narrative {i}"
            detail.save()
        expected[cid] = f"worker narrative {i}"
        counts["updates"] += 1
        if i % 3 == 0:
            check = check_create(
                actor=actor,
                data=CheckInput(
                    unit_id=actor.unit_id,
                    received_at=recent(5),
                    narrative=f"worker new {i}",
                    address=f"{i} WORKER ST",
                    person=PersonInput(given_name=f"Worker{i}", family_name="Concurrent"),
                ),
            )
            expected[str(check.pk)] = f"worker new {i}"
            counts["creates"] += 1
    print(json.dumps({"expected": expected, "counts": counts}))


if __name__ == "__main__":
    main()
