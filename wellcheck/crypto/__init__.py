"""Encryption at rest: AES-256-GCM envelope, key providers, encrypted fields, blind indexes.

For writers outside the ORM (bulk import with raw SQL or COPY)::

    from wellcheck.crypto import encrypt_for
    cell = encrypt_for("checks.checkdetail", check_id, "narrative", text)

See docs/adr/0006-encryption-and-keys.md.
"""

from __future__ import annotations

from typing import Any


def encrypt_for(
    model_label: str, pk: object, field: str, plaintext: Any, *, person_id: object = None
) -> str:
    """Ciphertext for one cell (``model_label`` like ``checks.checkdetail``), ready for raw SQL.

    Empty values come back as ``""`` (stored as they are). The value is bound to the table, row and
    field, under the active data key of the row's scope: the person's key when ``person_id`` is
    given (or the row is a person), else the global key. Dates, decimals and lists are accepted
    for fields of those types.
    """
    from django.apps import apps

    from wellcheck.crypto import envelope, keyring
    from wellcheck.crypto.fields import EncryptedMixin
    from wellcheck.crypto.scopes import person_scope, scope_for_label

    if plaintext is None or plaintext == "" or plaintext == []:
        return ""
    model = apps.get_model(model_label)
    f = model._meta.get_field(field)
    if not isinstance(f, EncryptedMixin):
        raise ValueError(f"{model_label}.{field} is not an encrypted field.")
    label = model._meta.label_lower
    scope = (
        person_scope(pk)
        if label == "people.person"
        else scope_for_label(label, person_id=person_id)
    )
    return envelope.encrypt(
        f.to_text(plaintext),
        model_label=label,
        pk=pk,
        field=f.name,
        dek_id=keyring.current_key_id(scope),
    )


def decrypt_for(model_label: str, pk: object, field: str, ciphertext: str) -> Any:
    """The plain value of one cell read outside the ORM (the reverse of :func:`encrypt_for`)."""
    from django.apps import apps

    from wellcheck.crypto.fields import Sealed, open_value

    if ciphertext in (None, ""):
        return ciphertext
    return open_value(apps.get_model(model_label), pk, field, Sealed(ciphertext))
