"""Aliases are searchable like names: through keyed blind indexes of their own (no alias text
outside the encrypted aliases), re-checked after decryption, through restrict(), kept in step
when the aliases change."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from wellcheck.checks.inputs import PersonInput
from wellcheck.crypto import blind
from wellcheck.crypto.testing import record_check
from wellcheck.people.models import Person, PersonAliasKey
from wellcheck.people.selectors import person_search
from wellcheck.people.services import person_record_at_check
from wellcheck.testing.personas import World


def set_aliases(world: World, person: Person, *aliases: str) -> None:
    person = Person.objects.get(pk=person.pk)
    person_record_at_check(
        actor=world.officer_a,
        agency=world.agency,
        existing=person,
        person=PersonInput(
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            aliases=aliases,
        ),
        consent=None,
    )


@pytest.fixture
def robert(world: World) -> Person:
    _, _, person = record_check(
        world, given="Robert", family="Zimmerman", birth=dt.date(1941, 5, 24)
    )
    set_aliases(world, person, "Bob Dylan", "Elston Gunnn")
    record_check(world, given="Jane", family="Doe", birth=dt.date(1990, 3, 4), minutes_ago=30)
    return person


def test_a_misspelt_alias_finds_the_person(world: World, robert: Person) -> None:
    found = person_search(actor=world.officer_a, name="Bob Dilan")
    assert [(m.person.pk, m.via_alias, m.exact) for m in found] == [(robert.pk, True, False)]
    exact = person_search(actor=world.officer_a, name="bob DYLAN", birth_year=1941)
    assert [(m.person.pk, m.via_alias, m.exact) for m in exact] == [(robert.pk, True, True)]
    assert person_search(actor=world.officer_a, name="Bob Dylan", birth_year=1990) == []
    assert [m.person.pk for m in person_search(actor=world.officer_a, name="Dillan")] == [robert.pk]
    by_name = person_search(actor=world.officer_a, name="Robert Zimmerman")
    assert [(m.person.pk, m.via_alias) for m in by_name] == [(robert.pk, False)]


def test_the_alias_index_holds_no_alias_text_and_its_own_keys(world: World, robert: Person) -> None:
    rows = list(PersonAliasKey.objects.filter(person=robert).values_list("name_key", flat=True))
    assert len(rows) == 2 and all(len(v) == blind.HEX_CHARS for v in rows)
    as_name = blind.person_indexes("Bob", "Dylan", None)["name_key"]
    assert blind.alias_indexes("Bob Dylan")["name_key"] != as_name  # a key of its own
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM people_personaliaskey")
        dump = repr(cur.fetchall())
    assert "Dylan" not in dump and "Bob" not in dump and "Gunn" not in dump


def test_changed_aliases_replace_their_indexes(world: World, robert: Person) -> None:
    set_aliases(world, robert, "Blind Boy Grunt")
    assert person_search(actor=world.officer_a, name="Bob Dylan") == []
    found = person_search(actor=world.officer_a, name="Blind Boy Grunt")
    assert [m.person.pk for m in found] == [robert.pk]
    assert PersonAliasKey.objects.filter(person=robert).count() == 1


def test_alias_search_goes_through_restrict(world: World, robert: Person) -> None:
    assert len(person_search(actor=world.officer_a, name="Bob Dylan")) == 1
    assert person_search(actor=world.other_agency_officer, name="Bob Dylan") == []
    assert person_search(actor=world.officer_b, name="Bob Dylan") == []  # other beat
    assert person_search(actor=world.analyst, name="Bob Dylan") == []
    assert len(person_search(actor=world.supervisor_a, name="Bob Dylan")) == 1


def test_matched_by_name_and_alias_comes_back_once(world: World, robert: Person) -> None:
    set_aliases(world, robert, "Robert Zimmermann")
    found = person_search(actor=world.supervisor_a, name="Robert Zimmerman")
    assert [(m.person.pk, m.via_alias, m.exact) for m in found] == [(robert.pk, False, True)]


def test_a_collision_in_the_alias_index_is_dropped_by_the_recheck(
    world: World, robert: Person
) -> None:
    jane = next(p for p in Person.objects.all() if p.given_name == "Jane")
    target = blind.alias_indexes("Bob Dylan")["name_phonetic_key"]
    PersonAliasKey.objects.create(
        person=jane, name_key="000000", name_phonetic_key=target, family_phonetic_key="000000"
    )
    found = person_search(actor=world.supervisor_a, name="Bob Dilan")
    assert [m.person.pk for m in found] == [robert.pk]


def test_the_migration_fills_the_alias_indexes_of_stored_persons(
    world: World, robert: Person
) -> None:
    PersonAliasKey.objects.all().delete()
    assert person_search(actor=world.officer_a, name="Bob Dylan") == []
    migration = importlib.import_module("wellcheck.people.migrations.0003_alias_keys")
    migration.fill_alias_keys(None, SimpleNamespace(connection=connection))
    assert [m.person.pk for m in person_search(actor=world.officer_a, name="Bob Dilan")] == [
        robert.pk
    ]


def test_the_search_page_says_the_match_was_by_an_alias(world: World, robert: Person) -> None:
    client = Client()
    client.force_login(world.records)
    response = client.get(reverse("people:search"), {"name": "Bob Dilan"})
    assert response.status_code == 200
    assert b"Robert Zimmerman" in response.content and b"by an alias" in response.content
    assert b"Dylan" not in response.content  # the alias itself is not shown in the list
