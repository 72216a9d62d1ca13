"""Searching encrypted names: misspelt names find the person, results are re-checked after
decryption, the search goes through restrict(), and wrong keys find nothing and say so."""

from __future__ import annotations

import base64
import datetime as dt
import re
import unicodedata

import hypothesis
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import strategies as st

from wellcheck.audit.models import AuditEvent
from wellcheck.checks.models import CheckDetail
from wellcheck.crypto import blind, keyring
from wellcheck.crypto.errors import WrongKey
from wellcheck.crypto.providers import EnvKeyProvider, get_provider, set_provider
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person
from wellcheck.people.selectors import person_search, split_name
from wellcheck.testing.personas import World


@pytest.fixture
def people(world: World) -> dict[str, Person]:
    made = {}
    for given, family, birth, minutes in (
        ("John", "Smith", dt.date(1980, 5, 17), 90),
        ("Joan", "Smithers", dt.date(1955, 1, 2), 85),
        ("Jane", "Doe", dt.date(1990, 3, 4), 80),
        ("Siobhán", "O'Brien", dt.date(1971, 7, 8), 75),
        ("John", "Smith", dt.date(1999, 9, 9), 70),
    ):
        _, _, person = record_check(
            world, given=given, family=family, birth=birth, minutes_ago=minutes
        )
        made[f"{given} {family} {birth.year}"] = person
    return made


def names(matches: list) -> list[tuple[str, str, int]]:
    return [
        (m.person.given_name, m.person.family_name, m.person.date_of_birth.year) for m in matches
    ]


def test_misspelt_name_finds_the_person(world: World, people: dict[str, Person]) -> None:
    found = person_search(actor=world.officer_a, name="Jon Smyth")
    assert sorted(names(found)) == [("John", "Smith", 1980), ("John", "Smith", 1999)]
    assert all(not m.exact and m.score > 0.8 for m in found)
    exact = person_search(actor=world.officer_a, name="john SMITH")
    assert exact and all(m.exact for m in exact)


def test_birth_year_and_date_narrow_the_search(world: World, people: dict[str, Person]) -> None:
    assert names(person_search(actor=world.officer_a, name="Jon Smyth", birth_year=1999)) == [
        ("John", "Smith", 1999)
    ]
    assert names(
        person_search(actor=world.officer_a, name="Smith, John", birth_date=dt.date(1980, 5, 17))
    ) == [("John", "Smith", 1980)]
    assert person_search(actor=world.officer_a, name="Jon Smyth", birth_year=1950) == []


def test_accents_punctuation_and_family_name_alone(world: World, people: dict[str, Person]) -> None:
    assert names(person_search(actor=world.officer_a, name="Siobhan OBrien")) == [
        ("Siobhán", "O'Brien", 1971)
    ]
    assert sorted(n[1] for n in names(person_search(actor=world.officer_a, name="Smyth"))) == [
        "Smith",
        "Smith",
    ]


def test_false_positives_of_truncated_indexes_are_removed(
    world: World, people: dict[str, Person]
) -> None:
    """Force a collision in the index: the re-check after decryption drops the wrong person."""
    jane = people["Jane Doe 1990"]
    target = blind.person_indexes("John", "Smith", None)["name_phonetic_key"]
    Person.objects.filter(pk=jane.pk).update(name_phonetic_key=target)
    found = person_search(actor=world.officer_a, name="Jon Smyth")
    assert ("Jane", "Doe", 1990) not in names(found) and len(found) == 2


def test_search_goes_through_restrict_and_is_audited(
    world: World, people: dict[str, Person]
) -> None:
    assert person_search(actor=world.analyst, name="John Smith") == []
    assert person_search(actor=world.other_agency_officer, name="John Smith") == []
    assert len(person_search(actor=world.officer_b, name="John Smith")) == 0  # other beat
    assert len(person_search(actor=world.supervisor_a, name="John Smith")) == 2
    event = AuditEvent.objects.filter(event_type="person.searched").latest("id")
    assert event.details == {"by": ["name"], "results": 2}
    assert "Smith" not in str(event.details) and "Smith" not in event.reason


def test_wrong_keys_find_nothing_and_raise_a_clear_error(
    world: World, people: dict[str, Person]
) -> None:
    kek_id = get_provider().current_kek_id()
    set_provider(
        EnvKeyProvider(
            {
                "WELLCHECK_KEKS": f"{kek_id}:{base64.b64encode(b'k' * 32).decode()}",
                "WELLCHECK_INDEX_KEY": base64.b64encode(b"i" * 32).decode(),
            }
        )
    )
    keyring.reset_caches()
    blind.reset_caches()
    try:
        assert person_search(actor=world.officer_a, name="John Smith") == []
        assert person_search(actor=world.officer_a, name="Jon Smyth") == []
        with pytest.raises(WrongKey, match=kek_id):
            _ = Person.objects.get(pk=people["John Smith 1980"].pk).family_name
    finally:
        set_provider(None)
        keyring.reset_caches()
        blind.reset_caches()
    assert len(person_search(actor=world.officer_a, name="John Smith")) == 2


def test_split_name() -> None:
    assert split_name("Smith, John") == ("John", "Smith")
    assert split_name("Mary Ann Smith") == ("Mary Ann", "Smith")
    assert split_name("Smith") == ("", "Smith")


def test_candidates_bring_their_data_keys_in_the_search_query(
    world: World, people: dict[str, Person]
) -> None:
    """No second round trip for the keys: the search query returns each candidate's wrapped data
    key, which is unwrapped (checked against its KEK) before the values are decrypted."""
    keyring.reset_caches()
    with CaptureQueriesContext(connection) as queries:
        found = person_search(actor=world.supervisor_a, name="Jon Smyth")
    assert len(found) == 2
    key_reads = [q["sql"] for q in queries.captured_queries if "crypto_datakey" in q["sql"]]
    assert len(key_reads) == 1 and "people_person" in key_reads[0]


def test_a_value_under_another_key_is_still_read(world: World, people: dict[str, Person]) -> None:
    """A field re-encrypted under a newer key than the one the search query brought along (a
    rotation half done) is fetched with its own key."""
    john = people["John Smith 1980"]
    old = Person.objects.get(pk=john.pk).__dict__["family_name"].key_id
    new = keyring.new_active_key(f"person:{john.pk}")
    person = Person.objects.get(pk=john.pk)
    person.given_name = "John"
    person.save(update_fields=["given_name"])  # re-encrypts this one field under the new key
    assert Person.objects.get(pk=john.pk).__dict__["given_name"].key_id == new
    assert Person.objects.get(pk=john.pk).__dict__["family_name"].key_id == old
    keyring.reset_caches()
    with CaptureQueriesContext(connection) as queries:
        found = person_search(actor=world.supervisor_a, name="Jon Smyth", birth_year=1980)
    assert names(found) == [("John", "Smith", 1980)]
    assert sum("crypto_datakey" in q["sql"] for q in queries.captured_queries) == 2


@hypothesis.given(st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_ascii_fast_path_normalises_as_the_unicode_path(text: str) -> None:
    """Blind indexes depend on the exact normalised form: the ASCII shortcut must not change it."""
    full = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    full = "".join(c for c in full if not unicodedata.combining(c)).casefold()
    full = full.replace("'", "").replace("-", " ")
    full = " ".join(re.sub(r"[^a-z\s]", " ", full).split())
    assert blind.normalise_name(text) == full


def test_a_person_with_several_checks_in_scope_comes_back_once(
    world: World, people: dict[str, Person]
) -> None:
    """A unit-scoped officer reaches persons through their checks (a join): still one result."""
    john = people["John Smith 1980"]
    other, _, extra = record_check(world, given="Someone", family="Else", minutes_ago=20)
    CheckDetail.objects.filter(pk=other.pk).update(person=john)
    found = person_search(actor=world.officer_a, name="John Smith", birth_year=1980)
    assert [m.person.pk for m in found] == [john.pk]
    assert [m.person.pk for m in person_search(actor=world.supervisor_a, name="Jon Smyth")].count(
        john.pk
    ) == 1
