"""Benchmark: misspelt-name search over encrypted persons on PostgreSQL, p50/p95/p99.

Run: ``.venv/bin/python bench/crypto_search.py [--persons 1000000] [--queries 500] [--db NAME]
[--keep] [--workers 2]``

Loads N persons the way the application stores them (each with its own data key wrapped by the
KEK, name/birth date/alias encrypted and bound to the row, the truncated blind indexes) with COPY
into a database of its own: worker processes encrypt chunks while the parent copies, and the tables'
secondary indexes are rebuilt after the load. ``--keep`` reuses the loaded persons (the keys live
in ``<tmp>/<db>_data``). Then times ``people.selectors.person_search`` (restrict(), index lookup,
unwrap of every candidate's data key, decryption, re-check, audit event) for misspelt names that
keep their phonetic code ("Jon Smyth" style), with and without a birth year; each pass starts
with no data key cached. The search's own audit row is timed inside each search and reported
apart (``without_audit_row_*``), and an audit row alone is timed too. Baseline in the same run:
the same index lookup with no door, decryption, re-check or audit.
Names: 150 common given names x 10,000 syllable-built family names, uniformly drawn; one person
in ten has one alias (drawn the same way; encrypted, with its alias indexes), and a third pass
searches by a misspelt alias.
Target (issue 5): p99 <= 20 ms at 1M persons.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import secrets
import time
import uuid
from typing import Any

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


def _word_tables(families: list[str]) -> dict[str, dict[str, str]]:
    """Normalised and phonetic forms of every given and family name, computed once."""
    from wellcheck.crypto.blind import normalise_name, phonetic

    return {
        "norm": {w: normalise_name(w) for w in (*GIVEN, *families)},
        "phon": {w: phonetic(w) for w in (*GIVEN, *families)},
    }


_CTX: dict[str, object] = {}


Sample = list[tuple[str, str, dt.date, str]]  # given, family, birth date, alias ("" if none)
ALIAS_SHARE = 0.1


def _chunk(job: tuple[int, int, int]) -> tuple[str, str, str, Sample]:
    """COPY text of ``count`` persons and their wrapped data keys (runs in a worker process).

    The same values the application writes: a fresh data key per person wrapped by the KEK, each
    field AES-256-GCM under it bound to row and field, the five blind indexes of
    ``crypto.blind.person_indexes`` (computed here from per-word tables with the same keys; the
    parent checks a sample against ``person_indexes`` itself).
    """
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from wellcheck.crypto import envelope
    from wellcheck.crypto.blind import alias_indexes, person_indexes
    from wellcheck.crypto.keyring import _wrap_aad

    index, start, count = job
    c = _CTX
    kek, kek_id, agency_id, now = c["kek"], c["kek_id"], c["agency_id"], c["now"]
    families, norm, phon, ikeys = c["families"], c["norm"], c["phon"], c["index_keys"]
    assert isinstance(kek, AESGCM) and isinstance(ikeys, dict)
    assert isinstance(families, list) and isinstance(norm, dict) and isinstance(phon, dict)
    rng = random.Random(f"persons-{index}")
    by_date: dict[dt.date, tuple[str, str]] = {}
    by_family: dict[str, str] = {}

    def mac(name: str, value: str) -> str:
        return hmac.new(ikeys[name], value.encode(), hashlib.sha256).hexdigest()[:6]

    b64 = base64.b64encode
    token = secrets.token_bytes
    keys, people, alias_rows, sample = [], [], [], []
    epoch = dt.date(1930, 1, 1)
    for _ in range(count):
        pid = str(uuid.UUID(bytes=token(16), version=4))
        given, family = rng.choice(GIVEN), rng.choice(families)
        dob = epoch + dt.timedelta(days=rng.randrange(30000))
        alias_of = (rng.choice(GIVEN), rng.choice(families)) if rng.random() < ALIAS_SHARE else None
        alias = f"{alias_of[0]} {alias_of[1]}" if alias_of else ""
        if rng.random() < (0.004 if not alias else 0.02):
            sample.append((given, family, dob, alias))
        dek_id, dek, scope = "dk" + token(7).hex(), token(32), f"person:{pid}"
        nonce = token(12)
        wrapped = b64(nonce + kek.encrypt(nonce, dek, _wrap_aad(dek_id, scope))).decode()
        keys.append(f"{dek_id}\t{scope}\tactive\t{kek_id}\t{wrapped}\t{now}\n")
        aes = AESGCM(dek)
        cells = []
        fields = [
            ("given_name", given),
            ("family_name", family),
            ("date_of_birth", dob.isoformat()),
        ]
        if alias:
            fields.append(("aliases", json.dumps([alias], sort_keys=True, ensure_ascii=False)))
        for field, text in fields:
            nonce = token(12)
            ct = aes.encrypt(
                nonce, text.encode(), envelope.aad("people.person", pid, field, dek_id)
            )
            cells.append(f"wc1:{dek_id}:{b64(nonce + ct).decode()}")
        g, f = norm[given], norm[family]
        if family not in by_family:
            by_family[family] = mac("person.family_phonetic", phon[family])
        if dob not in by_date:
            by_date[dob] = (
                mac("person.birth_date", dob.isoformat()),
                mac("person.birth_year", str(dob.year)),
            )
        if alias_of:
            ag, af = alias_of
            a_keys = (
                mac("person.alias_name", f"{norm[af]}|{norm[ag]}"),
                mac("person.alias_name_phonetic", f"{phon[af]}|{phon[ag]}"),
                mac("person.alias_family_phonetic", phon[af]),
            )
            if index < 0 and a_keys != tuple(alias_indexes(alias).values()):
                raise SystemExit(f"loader alias indexes differ from alias_indexes for {alias}")
            alias_rows.append("\t".join((pid, *a_keys)) + "\n")
        row = (
            pid,
            agency_id,
            *cells[:3],
            cells[3] if alias else "",
            mac("person.name", f"{f}|{g}"),
            mac("person.name_phonetic", f"{phon[family]}|{phon[given]}"),
            by_family[family],
            *by_date[dob],
            now,
        )
        if index < 0 and row[6:11] != tuple(person_indexes(given, family, dob).values()):
            raise SystemExit(f"loader indexes differ from person_indexes for {given} {family}")
        people.append("\t".join(row) + "\n")
    return "".join(keys), "".join(people), "".join(alias_rows), sample


INDEX_NAMES = (
    "person.alias_name",
    "person.alias_name_phonetic",
    "person.alias_family_phonetic",
    "person.name",
    "person.name_phonetic",
    "person.family_phonetic",
    "person.birth_date",
    "person.birth_year",
)


def _secondary_indexes(cur: object, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the tables' indexes that back no constraint."""
    cur.execute(  # type: ignore[attr-defined]
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND "
        "NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [list(tables)],
    )
    return list(cur.fetchall())  # type: ignore[attr-defined]


def load(n: int, workers: int) -> tuple[object, object, Sample]:
    """Load ``n`` persons with COPY: workers encrypt chunks while the parent copies the last one.

    The tables' secondary indexes are dropped for the load and rebuilt after it (one sort each
    instead of a million random inserts); primary keys stay, so duplicates would still fail.
    """
    import multiprocessing

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.db import connection
    from django.utils import timezone

    from wellcheck.accounts.models import Agency, User
    from wellcheck.accounts.permissions import Role
    from wellcheck.crypto.blind import index_key
    from wellcheck.crypto.providers import get_provider

    agency = Agency.objects.create(name="Bench PD", slug=f"bench-{secrets.token_hex(3)}")
    officer = User.objects.create(
        username=f"records-{secrets.token_hex(3)}", agency=agency, role=Role.RECORDS
    )
    provider = get_provider()
    kek_id = provider.current_kek_id()
    families = family_names()
    _CTX.update(
        kek=AESGCM(provider.kek(kek_id)),
        kek_id=kek_id,
        agency_id=str(agency.pk),
        now=timezone.now().isoformat(),
        families=families,
        index_keys={name: index_key(name) for name in INDEX_NAMES},
        **_word_tables(families),
    )
    _chunk((-1, 0, 500))  # checks the per-word shortcut against person_indexes (asserts)
    sample: Sample = []
    began = time.perf_counter()
    chunk = 20000
    jobs = [(i, s, min(chunk, n - s)) for i, s in enumerate(range(0, n, chunk))]
    tables = ("people_person", "crypto_datakey", "people_personaliaskey")
    with connection.cursor() as cur:
        dropped = _secondary_indexes(cur, tables)
        for name, _sql in dropped:
            cur.execute(f'DROP INDEX "{name}"')
    ctx = multiprocessing.get_context("fork")
    connection.close()  # no socket shared with the forked workers
    with ctx.Pool(workers) as pool, connection.cursor() as cur:
        raw = cur.connection
        for done, (keys, people, aliases, part) in enumerate(pool.imap(_chunk, jobs), 1):
            sample.extend(part)
            with raw.cursor().copy(
                "COPY crypto_datakey (id, scope, state, kek_id, wrapped, created_at) FROM STDIN"
            ) as cp:
                cp.write(keys)
            with raw.cursor().copy(
                "COPY people_person (id, agency_id, given_name, family_name, date_of_birth, "
                "aliases, name_key, name_phonetic_key, family_phonetic_key, birth_date_key, "
                "birth_year_key, created_at) FROM STDIN"
            ) as cp:
                cp.write(people)
            with raw.cursor().copy(
                "COPY people_personaliaskey (person_id, name_key, name_phonetic_key, "
                "family_phonetic_key) FROM STDIN"
            ) as cp:
                cp.write(aliases)
            if done % 10 == 0 or done == len(jobs):
                print(
                    f"  loaded {min(done * chunk, n)} persons, {time.perf_counter() - began:.0f} s",
                    flush=True,
                )
    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _name, sql in dropped:
            cur.execute(sql)
        print(f"  rebuilt {len(dropped)} indexes, {time.perf_counter() - t:.0f} s", flush=True)
        cur.execute("ANALYZE people_person")
        cur.execute("ANALYZE crypto_datakey")
        cur.execute("ANALYZE people_personaliaskey")
        # Write the load's dirty pages out now, not during the timed searches (their audit
        # rows' commits would wait behind it).
        t = time.perf_counter()
        cur.execute("CHECKPOINT")
        print(f"  checkpoint, {time.perf_counter() - t:.0f} s", flush=True)
    return agency, officer, sample


def _index_only(person: Any, wanted: object, agency_id: object, cands: list[int]) -> float:
    """The baseline: the same blind-index lookup with no door, decryption, re-check or audit."""
    t = time.perf_counter()
    rows = list(person.objects.filter(wanted, agency_id=agency_id)[:500])
    cands.append(len(rows))
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="reuse the persons already loaded")
    parser.add_argument("--db", default=DB, help="database name (its keys live beside it)")
    parser.add_argument("--workers", type=int, default=2, help="encrypting processes for the load")
    args = parser.parse_args()
    fresh_django(args.db, keep=args.keep)
    from django.db.models import Q

    from wellcheck.accounts.models import User
    from wellcheck.audit.events import EventType
    from wellcheck.audit.services import audit_record
    from wellcheck.crypto import keyring
    from wellcheck.crypto.blind import blind, name_values
    from wellcheck.people import selectors
    from wellcheck.people.models import Person, PersonAliasKey
    from wellcheck.people.selectors import person_search

    t = time.perf_counter()
    if args.keep and Person.objects.exists():
        officer = User.objects.filter(username__startswith="records-").latest("pk")
        mine = Person.objects.filter(agency_id=officer.agency_id)
        sample = [
            (p.given_name, p.family_name, p.date_of_birth, (p.aliases or [""])[0])
            for p in [*mine.order_by("?")[:2000], *mine.exclude(aliases="").order_by("?")[:500]]
        ]
        args.persons = Person.objects.count()
    else:
        _agency, officer, sample = load(args.persons, args.workers)
    load_s = time.perf_counter() - t
    rng = random.Random(5)
    queries = [rng.choice(sample) for _ in range(args.queries)]
    with_alias = [s for s in sample if s[3]]
    alias_queries = [rng.choice(with_alias) for _ in range(args.queries)] if with_alias else []
    # warm-up (connection, caches of the index keys)
    for given, family, _dob, _alias in queries[:20]:
        person_search(actor=officer, name=f"{given} {family}")
    results: dict[str, dict[str, float]] = {}
    audit_only = []
    for _ in range(200):
        t = time.perf_counter()
        audit_record(actor=officer, event_type=EventType.PERSON_SEARCHED, details={"bench": 1})
        audit_only.append((time.perf_counter() - t) * 1000)
    results["audit_row_alone"] = {"p50_ms": pct(audit_only, 0.5), "p99_ms": pct(audit_only, 0.99)}
    # The search's own audit row, timed inside each search (wellcheck/audit is not this
    # benchmark's subject): its share is reported beside the total.
    audit_ms: list[float] = []

    def timed_audit(**kwargs: object) -> object:
        t = time.perf_counter()
        try:
            return audit_record(**kwargs)
        finally:
            audit_ms.append((time.perf_counter() - t) * 1000)

    selectors.audit_record = timed_audit  # type: ignore[assignment]
    passes = (
        ("name", queries, False, False),
        ("name+birth_year", queries, True, False),
        ("alias", alias_queries, False, True),
    )
    for label, chosen, with_year, by_alias in passes:
        if not chosen:
            continue
        keyring.reset_caches()  # each pass starts with no unwrapped data key in memory
        lat, rest, base, found, cands = [], [], [], 0, []
        for i, (given, family, dob, alias) in enumerate(chosen):
            a_given, a_family = alias.rsplit(" ", 1) if by_alias else (given, family)
            q = f"{misspell(a_given, rng)} {misspell(a_family, rng)}"
            values = name_values(*q.rsplit(" ", 1))
            if by_alias:
                hits = PersonAliasKey.objects.filter(
                    Q(name_key=blind("person.alias_name", values["name"]))
                    | Q(
                        name_phonetic_key=blind(
                            "person.alias_name_phonetic", values["name_phonetic"]
                        )
                    )
                ).values("person_id")
                wanted = Q(pk__in=hits)
            else:
                wanted = Q(name_key=blind("person.name", values["name"])) | Q(
                    name_phonetic_key=blind("person.name_phonetic", values["name_phonetic"])
                )
            if i % 2:  # alternate which of the two reads the index pages first
                base.append(_index_only(Person, wanted, officer.agency_id, cands))
            del audit_ms[:]
            t = time.perf_counter()
            matches = person_search(
                actor=officer, name=q, birth_year=dob.year if with_year else None, limit=25
            )
            lat.append((time.perf_counter() - t) * 1000)
            rest.append(lat[-1] - sum(audit_ms))
            if not i % 2:
                base.append(_index_only(Person, wanted, officer.agency_id, cands))
            found += any(
                m.person.family_name == family
                and m.person.given_name == given
                and m.person.date_of_birth == dob
                and m.via_alias == by_alias
                for m in matches
            )
        results[label] = {
            "p50_ms": pct(lat, 0.5),
            "p95_ms": pct(lat, 0.95),
            "p99_ms": pct(lat, 0.99),
            "without_audit_row_p50_ms": pct(rest, 0.5),
            "without_audit_row_p99_ms": pct(rest, 0.99),
            "baseline_index_only_p50_ms": pct(base, 0.5),
            "baseline_p99_ms": pct(base, 0.99),
            "candidates_median": pct([float(c) for c in cands], 0.5),
            "candidates_p99": pct([float(c) for c in cands], 0.99),
            "target_found_share": round(found / len(chosen), 3),
        }
    selectors.audit_record = audit_record  # type: ignore[assignment]
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
