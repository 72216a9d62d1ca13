"""Reads of persons, through the one door (``restrict``).

``person_search`` finds persons by name (exact or forgiving: misspelt, accents, punctuation) and
birth date or year without any plaintext in the query: it matches keyed blind indexes, decrypts
the candidates, and re-checks each one against the query (truncated indexes give false
positives by design), so only true matches come back. The search is audited without its terms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jellyfish
from django.db.models import Q

from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.audit.events import EventType
from wellcheck.audit.services import audit_record
from wellcheck.crypto import keyring
from wellcheck.crypto.blind import (
    blind,
    name_values,
    name_values_of_normalised,
    normalise_name,
)
from wellcheck.crypto.fields import Sealed
from wellcheck.people.models import Person

MAX_CANDIDATES = 500
ENCRYPTED = ("given_name", "family_name", "date_of_birth")
_KEY = "wellcheck_data_key"  # annotation: the candidate's wrapped data key, same query


@dataclass(frozen=True)
class PersonMatch:
    person: Person
    score: float  # 0..1, Jaro-Winkler similarity of the normalised full names
    exact: bool  # same normalised name (and birth date when one was given)


def split_name(text: str) -> tuple[str, str]:
    """ "Smith, John" or "John Smith" -> ("John", "Smith"); one word is a family name."""
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip(), family.strip()
    words = text.split()
    if len(words) == 1:
        return "", words[0]
    return " ".join(words[:-1]), words[-1] if words else ""


def _prefetch_keys(people: list[Person]) -> None:
    """Unwrap the candidates' data keys: those the search query brought along, then (one query)
    any other key a value names (e.g. a field not yet re-encrypted after a rotation)."""
    keyring.remember_rows(p.__dict__.pop(_KEY, None) for p in people)
    ids = set()
    for p in people:
        for name in ENCRYPTED:
            value = p.__dict__.get(name)
            if isinstance(value, Sealed):
                ids.add(value.key_id)
    keyring.prefetch(ids)


def person_search(
    *,
    actor: User,
    name: str = "",
    birth_date: dt.date | None = None,
    birth_year: int | None = None,
    limit: int = 25,
) -> list[PersonMatch]:
    """Persons the actor may see who match; best first. Raises a crypto error on wrong keys."""
    given, family = split_name(name)
    q_given, q_family = normalise_name(given), normalise_name(family)
    query = name_values(given, family)
    if not (q_family or birth_date):
        return []
    wanted = Q()
    if q_family and q_given:
        wanted = Q(name_key=blind("person.name", query["name"])) | Q(
            name_phonetic_key=blind("person.name_phonetic", query["name_phonetic"])
        )
    elif q_family:
        wanted = Q(family_phonetic_key=blind("person.family_phonetic", query["family_phonetic"]))
    if birth_date:
        wanted &= Q(birth_date_key=blind("person.birth_date", birth_date.isoformat()))
    elif birth_year:
        wanted &= Q(birth_year_key=blind("person.birth_year", str(birth_year)))
    candidates = list(
        Person.objects.restrict(actor, Action.PERSON_VIEW)
        .filter(wanted)
        .distinct()
        .annotate(**{_KEY: keyring.key_column(Person, *ENCRYPTED)})
        .order_by("pk")[:MAX_CANDIDATES]
    )
    _prefetch_keys(candidates)
    matches = []
    for person in candidates:
        match = _recheck(person, q_given, q_family, query, birth_date, birth_year)
        if match is not None:
            matches.append(match)
    matches.sort(key=lambda m: (not m.exact, -m.score))
    audit_record(
        actor=actor,
        event_type=EventType.PERSON_SEARCHED,
        details={
            "by": [
                k
                for k, v in (("name", name), ("birth_date", birth_date), ("birth_year", birth_year))
                if v
            ],
            "results": len(matches[:limit]),
        },
    )
    return matches[:limit]


def _recheck(
    person: Person,
    q_given: str,
    q_family: str,
    query: dict[str, str],
    birth_date: dt.date | None,
    birth_year: int | None,
) -> PersonMatch | None:
    """Decrypt and compare with the query itself; drops false positives of truncated indexes."""
    if birth_date or birth_year:
        dob = person.date_of_birth
        if birth_date and dob != birth_date:
            return None
        if birth_year and not birth_date and (dob is None or dob.year != birth_year):
            return None
    p_given, p_family = normalise_name(person.given_name), normalise_name(person.family_name)
    values = name_values_of_normalised(p_given, p_family)
    exact_name = bool(q_family) and values["name"] == query["name"]
    if q_family and q_given:
        if not exact_name and values["name_phonetic"] != query["name_phonetic"]:
            return None
    elif q_family and values["family_phonetic"] != query["family_phonetic"]:
        return None
    full_q = f"{q_given} {q_family}".strip()
    full_p = f"{p_given} {p_family}".strip()
    score = jellyfish.jaro_winkler_similarity(full_q, full_p) if full_q else 1.0
    exact = (exact_name or not q_family) and (
        birth_date is None or person.date_of_birth == birth_date
    )
    return PersonMatch(person=person, score=round(score, 4), exact=exact)
