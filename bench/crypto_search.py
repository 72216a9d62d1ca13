"""Benchmark: misspelt-name search over encrypted persons on PostgreSQL, p50/p95/p99.

Run: ``.venv/bin/python bench/crypto_search.py [--persons 1000000] [--queries 500]``

Loads N persons the way the application stores them (each with its own data key wrapped by the
KEK, name/birth date/aliases encrypted and bound to the row, five truncated blind indexes) with
COPY into a database of its own, then times ``people.selectors.person_search`` (restrict(),
index lookup, decryption of every candidate, re-check, audit event) for misspelt names that keep
their phonetic code ("Jon Smyth" style), with and without a birth year. Baseline in the same run:
the same index lookup with no decryption or re-check (a plain indexed SELECT of the candidates).
Names: 150 common given names x 10,000 syllable-built family names, uniformly drawn.
Target (issue 5): p99 <= 20 ms at 1M persons.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import io
import json
import random
import secrets
import time
import uuid

from _crypto_setup import fresh_django

DB = "wc_crypto_bench_search"
GIVEN = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew "
    "Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna "
    "Joshua Michelle Kenneth Dorothy Kevin Carol Brian Amanda George Melissa Edward Deborah Ronald "
    "Stephanie Timothy Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy "
    "Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna Larry Brenda Justin Pamela Scott "
    "Nicole Brandon Emma Benjamin Samantha Samuel Katherine Gregory Christine Frank Debra "
    "Alexander Rachel Raymond Catherine Patrick Carolyn Jack Janet Dennis Ruth Jerry Maria Tyler "
    "Heather Aaron Diane Jose Virginia Adam Julie Henry Joyce Nathan Victoria Douglas Olivia "
    "Zachary Kelly Peter Christina Kyle Lauren Walter Joan Ethan Evelyn Jeremy Judith Harold Megan "
    "Keith Cheryl Christian Andrea Roger Hannah Noah Martha Gerald Jacqueline Carl Frances Terry "
    "Gloria Sean Ann Austin Teresa Arthur Kathryn Lawrence Sara Jesse Janice Dylan Jean"
).split()
PRE = (
    "Ash Bar Black Brad Brook Cald Carr Chap Clay Cole Craw Dal Dun Ed Fair Fitz Gar Hal Har "
    "Hol Kirk Lang Lind Mac Mar Mil Nor Pem Ran Rad Sel Sher Stan Strat Thorn Wal War Wes Whit Wick"
)
PRE_L = PRE.split()
MID = "a e i o u ing er el an ow".split()
SUF = (
    "by ton ley ford field well wood worth man son stead more dale ham hurst croft"
    " ridge low mont ster wick bourne lock ster gate".split()
)


def family_names() -> list[str]:
    names = sorted({f"{p}{m}{s}" for p in PRE_L for m in MID for s in SUF})
    return names[:10000]


def misspell(name: str, rng: random.Random) -> str:
    """A typo that keeps the Metaphone code: a vowel or y swapped, a doubled letter halved."""
    import jellyfish

    code = jellyfish.metaphone(name)
    for _ in range(20):
        i = rng.randrange(1, max(2, len(name)))
        ch = name[i] if i < len(name) else ""
        swaps = {"a": "e", "e": "a", "i": "y", "y": "i", "o": "u", "u": "o"}
        if ch in swaps:
            cand = name[:i] + swaps[ch] + name[i + 1 :]
        elif i + 1 < len(name) and name[i] == name[i + 1]:
            cand = name[:i] + name[i + 1 :]
        else:
            continue
        if jellyfish.metaphone(cand) == code and cand != name:
            return cand
    return name


def load(n: int) -> tuple[object, object, list[tuple[str, str, dt.date]]]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.db import connection
    from django.utils import timezone

    from wellcheck.accounts.models import Agency, User
    from wellcheck.accounts.permissions import Role
    from wellcheck.crypto import envelope
    from wellcheck.crypto.blind import person_indexes
    from wellcheck.crypto.keyring import _wrap_aad
    from wellcheck.crypto.providers import get_provider

    agency = Agency.objects.create(name="Bench PD", slug=f"bench-{secrets.token_hex(3)}")
    officer = User.objects.create(
        username=f"records-{secrets.token_hex(3)}", agency=agency, role=Role.RECORDS
    )
    provider = get_provider()
    kek_id = provider.current_kek_id()
    kek = AESGCM(provider.kek(kek_id))
    families = family_names()
    rng = random.Random(11)
    sample: list[tuple[str, str, dt.date]] = []
    now = timezone.now().isoformat()
    began = time.perf_counter()
    chunk = 50000
    for start in range(0, n, chunk):
        keys, people = io.StringIO(), io.StringIO()
        for _ in range(min(chunk, n - start)):
            pid = uuid.uuid4()
            given, family = rng.choice(GIVEN), rng.choice(families)
            dob = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
            if len(sample) < 5000 and rng.random() < 0.01:
                sample.append((given, family, dob))
            dek_id, dek, scope = (
                "dk" + secrets.token_hex(7),
                secrets.token_bytes(32),
                f"person:{pid}",
            )
            nonce = secrets.token_bytes(12)
            wrapped = base64.b64encode(nonce + kek.encrypt(nonce, dek, _wrap_aad(dek_id, scope)))
            keys.write(f"{dek_id}\t{scope}\tactive\t{kek_id}\t{wrapped.decode()}\t{now}\n")
            aes = AESGCM(dek)
            cells = []
            for field, text in (
                ("given_name", given),
                ("family_name", family),
                ("date_of_birth", dob.isoformat()),
            ):
                nonce = secrets.token_bytes(12)
                ct = aes.encrypt(
                    nonce, text.encode(), envelope.aad("people.person", pid, field, dek_id)
                )
                cells.append(f"wc1:{dek_id}:{base64.b64encode(nonce + ct).decode()}")
            idx = person_indexes(given, family, dob)
            people.write(
                "\t".join(
                    [
                        str(pid),
                        str(agency.pk),
                        *cells,
                        "",
                        idx["name_key"],
                        idx["name_phonetic_key"],
                        idx["family_phonetic_key"],
                        idx["birth_date_key"],
                        idx["birth_year_key"],
                        now,
                    ]
                )
                + "\n"
            )
        with connection.cursor() as cur:
            with cur.connection.cursor().copy(
                "COPY crypto_datakey (id, scope, state, kek_id, wrapped, created_at) FROM STDIN"
            ) as cp:
                cp.write(keys.getvalue())
            with cur.connection.cursor().copy(
                "COPY people_person (id, agency_id, given_name, family_name, date_of_birth, "
                "aliases, name_key, name_phonetic_key, family_phonetic_key, birth_date_key, "
                "birth_year_key, created_at) FROM STDIN"
            ) as cp:
                cp.write(people.getvalue())
        done = start + chunk
        print(f"  loaded {min(done, n)} persons, {time.perf_counter() - began:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE people_person")
        cur.execute("ANALYZE crypto_datakey")
    return agency, officer, sample


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="reuse the persons already loaded")
    args = parser.parse_args()
    fresh_django(DB, keep=args.keep)
    from django.db.models import Q

    from wellcheck.accounts.models import User
    from wellcheck.audit.events import EventType
    from wellcheck.audit.services import audit_record
    from wellcheck.crypto.blind import blind, name_values
    from wellcheck.people.models import Person
    from wellcheck.people.selectors import person_search

    t = time.perf_counter()
    if args.keep and Person.objects.exists():
        officer = User.objects.filter(username__startswith="records-").latest("pk")
        sample = [
            (p.given_name, p.family_name, p.date_of_birth)
            for p in Person.objects.filter(agency_id=officer.agency_id).order_by("?")[:2000]
        ]
        args.persons = Person.objects.count()
    else:
        _agency, officer, sample = load(args.persons)
    load_s = time.perf_counter() - t
    rng = random.Random(5)
    queries = [rng.choice(sample) for _ in range(args.queries)]
    # warm-up (connection, caches of the index keys)
    for given, family, _dob in queries[:20]:
        person_search(actor=officer, name=f"{given} {family}")
    results: dict[str, dict[str, float]] = {}
    audit_only = []
    for _ in range(200):
        t = time.perf_counter()
        audit_record(actor=officer, event_type=EventType.PERSON_SEARCHED, details={"bench": 1})
        audit_only.append((time.perf_counter() - t) * 1000)
    results["audit_row_alone"] = {"p50_ms": pct(audit_only, 0.5), "p99_ms": pct(audit_only, 0.99)}
    for label, with_year in (("name", False), ("name+birth_year", True)):
        lat, base, found, cands = [], [], 0, []
        for given, family, dob in queries:
            q = f"{misspell(given, rng)} {misspell(family, rng)}"
            values = name_values(*q.rsplit(" ", 1))
            wanted = Q(name_key=blind("person.name", values["name"])) | Q(
                name_phonetic_key=blind("person.name_phonetic", values["name_phonetic"])
            )
            t = time.perf_counter()
            rows = list(Person.objects.filter(wanted, agency_id=officer.agency_id)[:500])
            base.append((time.perf_counter() - t) * 1000)
            cands.append(len(rows))
            t = time.perf_counter()
            matches = person_search(
                actor=officer, name=q, birth_year=dob.year if with_year else None, limit=25
            )
            lat.append((time.perf_counter() - t) * 1000)
            found += any(
                m.person.family_name == family
                and m.person.given_name == given
                and m.person.date_of_birth == dob
                for m in matches
            )
        results[label] = {
            "p50_ms": pct(lat, 0.5),
            "p95_ms": pct(lat, 0.95),
            "p99_ms": pct(lat, 0.99),
            "baseline_index_only_p50_ms": pct(base, 0.5),
            "baseline_p99_ms": pct(base, 0.99),
            "candidates_median": pct([float(c) for c in cands], 0.5),
            "candidates_p99": pct([float(c) for c in cands], 0.99),
            "target_found_share": round(found / len(queries), 3),
        }
    print(
        json.dumps(
            {
                "persons": args.persons,
                "queries": args.queries,
                "load_seconds": round(load_s, 1),
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
