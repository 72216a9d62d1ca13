"""Reads of persons, through the one door (``restrict``).

``person_search`` finds persons by name or alias (exact or forgiving: misspelt, accents,
punctuation) and birth date or year without any plaintext in the query: it matches keyed blind
indexes, decrypts the candidates, and re-checks each one against the query (truncated indexes
give false positives by design), so only true matches come back. The search is audited without
its terms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jellyfish
from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

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
    split_name,
)
from wellcheck.crypto.fields import Sealed
from wellcheck.people.models import Person, PersonAliasKey

MAX_CANDIDATES = 500
ENCRYPTED = ("given_name", "family_name", "date_of_birth")
_KEY = "wellcheck_data_key"  # annotation: the candidate's wrapped data key, same query


@dataclass(frozen=True)
class PersonMatch:
    person: Person
    score: float  # 0..1, Jaro-Winkler similarity of the normalised full names
    exact: bool  # same normalised name (and birth date when one was given)
    via_alias: bool = False  # matched one of the person's aliases, not their name


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
    """Persons the actor may see who match by name or alias; best first. Raises a crypto error
    on wrong keys."""
    given, family = split_name(name)
    q_given, q_family = normalise_name(given), normalise_name(family)
    query = name_values(given, family)
    if not (q_family or birth_date):
        return []
    wanted, by_alias = Q(), None
    if q_family and q_given:
        wanted = Q(name_key=blind("person.name", query["name"])) | Q(
            name_phonetic_key=blind("person.name_phonetic", query["name_phonetic"])
        )
        by_alias = {
            "name_key": blind("person.alias_name", query["name"]),
            "name_phonetic_key": blind("person.alias_name_phonetic", query["name_phonetic"]),
        }
    elif q_family:
        wanted = Q(family_phonetic_key=blind("person.family_phonetic", query["family_phonetic"]))
        by_alias = {
            "family_phonetic_key": blind("person.alias_family_phonetic", query["family_phonetic"])
        }
    born = Q()
    if birth_date:
        born = Q(birth_date_key=blind("person.birth_date", birth_date.isoformat()))
    elif birth_year:
        born = Q(birth_year_key=blind("person.birth_year", str(birth_year)))
    if by_alias is not None:
        wanted |= Q(_aliased(by_alias))
    found = Person.objects.restrict(actor, Action.PERSON_VIEW).filter(wanted & born)
    if len(found.query.alias_map) > 1:
        # The actor's scope joined the person's checks: one row per check without DISTINCT. (Not
        # otherwise: DISTINCT would look up the data key of every candidate beyond the limit.)
        found = found.distinct()
    candidates = list(
        found.annotate(**{_KEY: keyring.key_column(Person, *ENCRYPTED)}).order_by("pk")[
            :MAX_CANDIDATES
        ]
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


def _aliased(keys: dict[str, str]) -> RawSQL:
    """The condition "one of the person's aliases has one of these blind index values".

    On PostgreSQL ``id = ANY(ARRAY(subquery))``: the subquery runs once and the condition is an
    index condition on the primary key, so ORed with the name indexes it stays one bitmap index
    scan (``id IN (subquery)`` ORed with them would scan the whole table). Elsewhere ``IN``.
    """
    q = connection.ops.quote_name
    person = f"{q(Person._meta.db_table)}.{q('id')}"
    where = " OR ".join(f"a.{q(column)} = %s" for column in keys)
    inner = f"SELECT a.{q('person_id')} FROM {q(PersonAliasKey._meta.db_table)} a WHERE {where}"  # noqa: S608
    if connection.vendor == "postgresql":
        sql = f"{person} = ANY(ARRAY({inner}))"
    else:
        sql = f"{person} IN ({inner})"
    return RawSQL(sql, list(keys.values()), output_field=BooleanField())  # noqa: S611


def _recheck(
    person: Person,
    q_given: str,
    q_family: str,
    query: dict[str, str],
    birth_date: dt.date | None,
    birth_year: int | None,
) -> PersonMatch | None:
    """Decrypt and compare with the query itself; drops false positives of truncated indexes.
    The person's name is tried first, then (decrypted only then) each alias."""
    if birth_date or birth_year:
        dob = person.date_of_birth
        if birth_date and dob != birth_date:
            return None
        if birth_year and not birth_date and (dob is None or dob.year != birth_year):
            return None
    born = birth_date is None or person.date_of_birth == birth_date
    if not q_family:
        return PersonMatch(person=person, score=1.0, exact=born)
    hit = _name_match(
        normalise_name(person.given_name),
        normalise_name(person.family_name),
        q_given,
        q_family,
        query,
    )
    if hit is None:
        for alias in person.aliases or []:
            a_given, a_family = split_name(str(alias))
            hit = _name_match(
                normalise_name(a_given), normalise_name(a_family), q_given, q_family, query
            )
            if hit is not None:
                return PersonMatch(
                    person=person, score=hit[0], exact=hit[1] and born, via_alias=True
                )
        return None
    return PersonMatch(person=person, score=hit[0], exact=hit[1] and born)


def _name_match(
    p_given: str, p_family: str, q_given: str, q_family: str, query: dict[str, str]
) -> tuple[float, bool] | None:
    """(score, exact) when a normalised name matches the query, else None."""
    values = name_values_of_normalised(p_given, p_family)
    exact = values["name"] == query["name"]
    if q_given:
        if not exact and values["name_phonetic"] != query["name_phonetic"]:
            return None
    elif values["family_phonetic"] != query["family_phonetic"]:
        return None
    full_q = f"{q_given} {q_family}".strip()
    full_p = f"{p_given} {p_family}".strip()
    return round(jellyfish.jaro_winkler_similarity(full_q, full_p), 4), exact
