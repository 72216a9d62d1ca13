"""Benchmark: reads and writes of encrypted fields against the same plain fields, in one run.

Run: ``.venv/bin/python bench/crypto_fields.py [--rows 20000]`` (PostgreSQL at 127.0.0.1).

Two tables of the same shape (name, family name, birth date, a 260-byte narrative), one with
plain Django fields and one with WellCheck's encrypted fields (AES-256-GCM per value, bound to
row and field), written and read through the same ORM paths, alternating, three rounds each:

* ``bulk_create``: rows/s, batches of 1000;
* ``save``: single-row ``save()`` in its own transaction, rows/s;
* ``read all``: ``list(all())`` and every field read (so every value is decrypted), rows/s;
* ``get by pk``: one row by primary key and its fields, latency p50/p99 in ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
import uuid

from _crypto_setup import fresh_django

DB = "wc_crypto_bench_fields"
NARRATIVE = ("Found the person at home, confused but unhurt; family informed; referral made. " * 4)[
    :260
]


def models_for_bench():  # type: ignore[no-untyped-def]
    from django.db import connection, models

    from wellcheck.crypto.fields import EncryptedCharField, EncryptedDateField, EncryptedTextField

    class PlainRow(models.Model):  # noqa: DJ008 (a throwaway benchmark table)
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        given_name = models.CharField(max_length=100)
        family_name = models.CharField(max_length=100)
        date_of_birth = models.DateField(null=True)
        narrative = models.TextField()

        class Meta:
            app_label = "crypto"
            db_table = "bench_plain_row"

    class SealedRow(models.Model):  # noqa: DJ008 (a throwaway benchmark table)
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        given_name = EncryptedCharField(max_length=100)
        family_name = EncryptedCharField(max_length=100)
        date_of_birth = EncryptedDateField(null=True)
        narrative = EncryptedTextField()

        class Meta:
            app_label = "crypto"
            db_table = "bench_sealed_row"

    with connection.schema_editor() as editor:
        for model in (PlainRow, SealedRow):
            editor.create_model(model)
    return PlainRow, SealedRow


def make(model, n: int) -> list:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    return [
        model(
            given_name=f"Given{rng.randrange(10**6)}",
            family_name=f"Family{rng.randrange(10**6)}",
            date_of_birth=dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000)),
            narrative=NARRATIVE,
        )
        for _ in range(n)
    ]


def touch(row) -> None:  # type: ignore[no-untyped-def]
    _ = (row.given_name, row.family_name, row.date_of_birth, row.narrative)


def round_for(model, n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from django.db import transaction

    model.objects.all().delete()
    rows = make(model, n)
    t = time.perf_counter()
    model.objects.bulk_create(rows, batch_size=1000)
    bulk = n / (time.perf_counter() - t)
    single = make(model, 1000)
    t = time.perf_counter()
    for row in single:
        with transaction.atomic():
            row.save(force_insert=True)
    save = len(single) / (time.perf_counter() - t)
    t = time.perf_counter()
    every = list(model.objects.all())
    for row in every:
        touch(row)
    read_all = len(every) / (time.perf_counter() - t)
    ids = [r.pk for r in random.Random(3).sample(every, 2000)]
    lat = []
    for pk in ids:
        t = time.perf_counter()
        touch(model.objects.get(pk=pk))
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    return {
        "bulk_create_rows_s": bulk,
        "save_rows_s": save,
        "read_all_rows_s": read_all,
        "get_p50_ms": lat[len(lat) // 2],
        "get_p99_ms": lat[int(len(lat) * 0.99)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fresh_django(DB)
    plain, sealed = models_for_bench()
    results: dict[str, list[dict[str, float]]] = {"plain": [], "encrypted": []}
    for _ in range(args.rounds):
        results["plain"].append(round_for(plain, args.rows))
        results["encrypted"].append(round_for(sealed, args.rows))
    summary = {}
    for name, runs in results.items():
        summary[name] = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}
    summary["ratio_encrypted_over_plain"] = {
        k: round(summary["encrypted"][k] / summary["plain"][k], 3) for k in summary["plain"]
    }
    print(json.dumps({"rows": args.rows, "rounds": args.rounds, **summary}, indent=2))


if __name__ == "__main__":
    main()
