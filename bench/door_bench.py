"""The door's cost: restrict() with grant overrides and break-the-glass vs the raw filter.

Run: ``.venv/bin/python bench/door_bench.py [N_CHECKS]`` (PostgreSQL at 127.0.0.1:5432; makes and
drops the database ``wc_access_door_bench``). Prints median microseconds per call for:
- baseline: the raw unit filter (what the door compiles to without grants or emergencies);
- door: ``restrict(officer, CHECK_VIEW).filter(pk=...).exists()`` on a fresh user object each time
  (so it pays the one grant query, as every request does);
- door with an active emergency access (the break-the-glass subquery ORed in).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _audit_setup import drop, fresh_django  # noqa: E402

DB = "wc_access_door_bench"


def median_us(fn: Callable[[], object], repeat: int = 300) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def main(n: int) -> None:
    fresh_django(DB)
    try:
        from django.utils import timezone

        from wellcheck.accounts.breakglass import break_glass_open
        from wellcheck.accounts.models import User
        from wellcheck.accounts.permissions import Action
        from wellcheck.checks.models import WellnessCheck
        from wellcheck.testing.personas import make_world

        world = make_world()
        now = timezone.now()
        units = [world.unit_a, world.unit_b]
        WellnessCheck.objects.bulk_create(
            [
                WellnessCheck(
                    agency=world.agency,
                    unit=units[i % 2],
                    received_at=now - dt.timedelta(minutes=i),
                )
                for i in range(n)
            ],
            batch_size=5000,
        )
        target = WellnessCheck.objects.filter(unit=world.unit_a).order_by("pk").first()
        assert target is not None
        officer_id = world.officer_b.pk
        unit_ids = world.officer_b.scope_unit_ids()

        def baseline() -> object:
            return WellnessCheck.objects.filter(
                agency_id=world.agency.pk, unit_id__in=unit_ids, pk=target.pk
            ).exists()

        def door() -> object:
            user = User.objects.get(pk=officer_id)  # every request loads its user
            return (
                WellnessCheck.objects.restrict(user, Action.CHECK_VIEW)
                .filter(pk=target.pk)
                .exists()
            )

        def user_only() -> object:
            return User.objects.get(pk=officer_id)

        base = median_us(baseline)
        load = median_us(user_only)
        plain = median_us(door)
        break_glass_open(
            actor=world.officer_b,
            check_id=target.pk,
            reason_code="life_at_risk",
            reason_text="benchmark emergency access",
        )
        assert door()
        emergency = median_us(door)
        print(f"checks: {n}")
        print(f"baseline raw filter .exists():          {base:8.0f} us")
        print(f"user load (every request does it):       {load:8.0f} us")
        print(
            f"door (user load + grants + filter):      {plain:8.0f} us  "
            f"(door - user load = {plain - load:.0f} us, {(plain - load) / base:.2f}x baseline)"
        )
        print(
            f"door with an emergency access OR'd in:   {emergency:8.0f} us  "
            f"(door - user load = {emergency - load:.0f} us, "
            f"{(emergency - load) / base:.2f}x baseline)"
        )
    finally:
        drop(DB)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
