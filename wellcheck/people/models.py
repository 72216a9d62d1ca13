"""Persons checked on, and their consent to ongoing support.

In a ``consent_only`` agency a person row exists only while the person has an active consent to
ongoing support; withdrawal or lapse removes it and turns their checks back into tallies.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wellcheck.accounts.permissions import Scope
from wellcheck.core.querysets import RestrictedQuerySet
from wellcheck.crypto.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
)

if TYPE_CHECKING:
    from wellcheck.accounts.models import User


class PersonQuerySet(RestrictedQuerySet["Person"]):
    pass


_INDEXER = "wellcheck.crypto.blind.person_indexes_of"


class Person(models.Model):
    """The subject of one or more checks. Identifying by definition.

    Name, birth date and aliases are encrypted under the person's own data key (AES-256-GCM,
    bound to this row and field), so erasing the person destroys them in backups too. The
    ``*_key`` columns are truncated keyed blind indexes for search (see ``crypto/blind.py``),
    recomputed on every save; search results are re-checked after decryption.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="persons")
    given_name = EncryptedCharField(max_length=100, blank=True)
    family_name = EncryptedCharField(max_length=100, blank=True)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    aliases = EncryptedJSONField(default=list, blank=True)
    name_key = BlindIndexField(indexer=_INDEXER, db_index=True)
    name_phonetic_key = BlindIndexField(indexer=_INDEXER, db_index=True)
    family_phonetic_key = BlindIndexField(indexer=_INDEXER, db_index=True)
    birth_date_key = BlindIndexField(indexer=_INDEXER, db_index=True)
    birth_year_key = BlindIndexField(indexer=_INDEXER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Person {str(self.id)[:8]}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    @classmethod
    def scope_filter(cls, actor: User, scope: Scope) -> Q:
        base = Q(agency_id=actor.agency_id)
        if scope >= Scope.AGENCY:
            return base
        unit_ids = actor.scope_unit_ids()
        if scope == Scope.UNIT:
            return base & Q(check_details__check_record__unit_id__in=unit_ids)
        return base & (
            Q(check_details__check_record__created_by_id=actor.pk)
            | Q(check_details__check_record__assigned_to_id=actor.pk)
        )


class PersonAliasKey(models.Model):
    """The blind indexes of one alias of a person, so that aliases are searchable like names.

    Holds no alias text (that stays encrypted in ``Person.aliases``). Rebuilt from the aliases by
    ``people.services.person_alias_keys_sync`` whenever they are written; read only by the
    person search, through a subquery of the restricted persons.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="alias_keys")
    name_key = models.CharField(max_length=16)
    name_phonetic_key = models.CharField(max_length=16)
    family_phonetic_key = models.CharField(max_length=16)

    class Meta:
        indexes = [
            models.Index(fields=["name_key"], name="people_alias_name_key"),
            models.Index(fields=["name_phonetic_key"], name="people_alias_phonetic_key"),
            models.Index(fields=["family_phonetic_key"], name="people_alias_family_key"),
        ]

    def __str__(self) -> str:
        return f"Alias index of {self.person_id}"


class ConsentScope(models.TextChoices):
    ONGOING_SUPPORT = "ongoing_support", "Ongoing support or services (keeps the record)"
    FOLLOW_UP_CONTACT = "follow_up_contact", "Follow-up contact"
    SUPPORT_PROFILE = "support_profile", "Support profile shown to responders"
    SHARE_WITH_SERVICE = "share_with_service", "Sharing with a named service"


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbal"
    WRITTEN = "written", "Written"
    GUARDIAN = "guardian", "By a guardian or attorney"


class ConsentQuerySet(models.QuerySet["Consent"]):
    def active(self, at: object = None) -> ConsentQuerySet:
        now = at or timezone.now()
        return self.filter(withdrawn_at__isnull=True, lapsed_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class Consent(models.Model):
    """A person's consent for one scope: who took it, when, how, and until when it holds."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=30, choices=ConsentScope.choices)
    service_name = models.CharField(max_length=200, blank=True)
    method = models.CharField(
        max_length=20, choices=ConsentMethod.choices, default=ConsentMethod.VERBAL
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} consent"
