"""Data keys (DEKs), stored wrapped by a key-encryption key (KEK) that never sits in the database.

Each scope has at most one *active* data key, used for new encryptions: ``global`` for values not
tied to a person, ``person:<uuid>`` for a person's own data (so that erasing a person destroys
their key: crypto-shredding). *Retired* keys still decrypt until their values are re-encrypted;
*destroyed* keys keep their row (id, scope, dates) but no key material.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class DataKeyState(models.TextChoices):
    ACTIVE = "active", "Active (encrypts and decrypts)"
    RETIRED = "retired", "Retired (decrypts only)"
    DESTROYED = "destroyed", "Destroyed (crypto-shredded)"


class DataKey(models.Model):
    """One AES-256 data key, wrapped with AES-256-GCM under the KEK named by ``kek_id``.

    The wrapping binds the key id and scope as associated data, so a wrapped key copied to another
    row does not open. ``wrapped`` is empty once the key is destroyed.
    """

    id = models.CharField(primary_key=True, max_length=20)
    scope = models.CharField(max_length=60, db_index=True)
    state = models.CharField(
        max_length=10, choices=DataKeyState.choices, default=DataKeyState.ACTIVE
    )
    kek_id = models.CharField(max_length=60, db_index=True)
    wrapped = models.TextField(blank=True)
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope"], condition=Q(state="active"), name="one_active_data_key_per_scope"
            )
        ]

    def __str__(self) -> str:
        return f"Data key {self.id} ({self.scope}, {self.state})"
