"""Encrypted model fields: the ORM hands out plain Python values, the database sees ciphertext.

How a value travels:

* write: ``pre_save`` (which has the row) encrypts with the active data key of the row's scope
  and binds the value to ``<model>:<pk>:<field>``. The primary key must exist before the first
  save (UUIDs generated in Python). ``update()``/``bulk_update()`` with plaintext are refused.
* read: ``from_db_value`` (which has no row) wraps the ciphertext in :class:`Sealed`; the field's
  descriptor opens it with the instance's pk on first access and keeps the plain value.
  ``values()``/``values_list()`` return :class:`Sealed`: open them with :func:`open_value`.

Empty strings and NULL are stored as they are (what leaks: that the field is empty).
Lookups other than on empty/NULL are refused: search through blind indexes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any, cast

from django import forms
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from wellcheck.crypto import envelope, keyring
from wellcheck.crypto.errors import PlaintextWriteRefused
from wellcheck.crypto.scopes import scope_of


class Sealed:
    """Ciphertext read from the database, not yet opened (it needs the row's pk)."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def __repr__(self) -> str:
        return "<Sealed value>"

    def __str__(self) -> str:
        return "[encrypted]"

    @property
    def key_id(self) -> str:
        return envelope.key_id_of(self.ciphertext)


class Ciphertext(str):
    """A string that is already ciphertext: written as it is (rotation, bulk import)."""


class _OpeningDescriptor(DeferredAttribute):
    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = cast("EncryptedMixin", self.field).open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedMixin:
    """Shared behaviour; subclasses define ``to_text``/``from_text`` for their Python type."""

    descriptor_class: type[DeferredAttribute] = _OpeningDescriptor
    attname: str
    name: str
    model: type[models.Model]

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def db_type(self, connection: Any) -> str:
        return "text"

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return Sealed(value)

    def _empty(self, value: Any) -> bool:
        return value is None or value == "" or value == []

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Ciphertext) or value is None:
            return value if value is None else str(value)
        if value == "":
            return ""
        if isinstance(value, Sealed):
            return value.ciphertext
        raise PlaintextWriteRefused(
            f"{self.model._meta.label_lower}.{self.name}: plaintext cannot be written or searched "
            "without its row; save the instance, or search through the blind indexes."
        )

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return self.get_prep_value(value)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_prep_value(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or value == "":
            return value
        label = model_instance._meta.label_lower
        if model_instance.pk is None:
            raise PlaintextWriteRefused(
                f"{label}.{self.name}: the row needs its primary key before the first save (a "
                "UUID generated in Python), so the value can be bound to it."
            )
        target = keyring.current_key_id(scope_of(model_instance))
        if isinstance(value, Sealed):
            if value.key_id == target:
                # Check it still belongs to this row before writing it back unchanged.
                self.open(model_instance, value)
                return Ciphertext(value.ciphertext)
            value = self.open(model_instance, value)
        if self._empty(value):
            return None if value is None else ("" if not isinstance(value, list) else None)
        return Ciphertext(
            envelope.encrypt(
                self.to_text(value),
                model_label=label,
                pk=model_instance.pk,
                field=self.name,
                dek_id=target,
            )
        )

    def open(self, instance: models.Model, sealed: Sealed) -> Any:
        text = envelope.decrypt(
            sealed.ciphertext,
            model_label=instance._meta.label_lower,
            pk=instance.pk,
            field=self.name,
        )
        return self.from_text(text)

    def value_to_string(self, obj: models.Model) -> str:
        value = getattr(obj, self.attname)
        return "" if value is None else self.to_text(value)


class EncryptedTextField(EncryptedMixin, models.TextField):  # type: ignore[type-arg]  # django-stubs generic
    pass


class EncryptedCharField(EncryptedMixin, models.CharField):  # type: ignore[type-arg]  # django-stubs generic
    """A short encrypted string; ``max_length`` limits the plaintext (forms and validation)."""

    def formfield(self, **kwargs: Any) -> Any:
        return forms.CharField(max_length=self.max_length, required=not self.blank, **kwargs)


class EncryptedDateField(EncryptedMixin, models.DateField):  # type: ignore[type-arg]  # django-stubs generic
    def to_text(self, value: Any) -> str:
        return str(value.isoformat())

    def from_text(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if isinstance(value, str) and value and not envelope.is_ciphertext(value):
            model_instance.__dict__[self.attname] = self.to_python(value)
        return EncryptedMixin.pre_save(self, model_instance, add)


class EncryptedDecimalField(EncryptedMixin, models.DecimalField):  # type: ignore[type-arg]  # django-stubs generic
    def to_text(self, value: Any) -> str:
        return str(self.to_python(value))

    def from_text(self, text: str) -> decimal.Decimal:
        return decimal.Decimal(text)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_prep_value(value)


class EncryptedJSONField(EncryptedMixin, models.TextField):  # type: ignore[type-arg]  # django-stubs generic
    """A JSON value (e.g. a list of aliases), encrypted as one blob."""

    def to_text(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    def from_text(self, text: str) -> Any:
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value == [] or value == {}:
            return ""
        return EncryptedMixin.pre_save(self, model_instance, add)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return [] if value == "" else None
        return Sealed(value)

    def formfield(self, **kwargs: Any) -> Any:
        return forms.JSONField(required=not self.blank, **kwargs)


def open_value(model: type[models.Model], pk: object, field: str, value: Any) -> Any:
    """Open a :class:`Sealed` value from ``values()``/``values_list()`` given its row's pk."""
    if not isinstance(value, Sealed):
        return value
    f = cast("EncryptedMixin", model._meta.get_field(field))
    text = envelope.decrypt(
        value.ciphertext, model_label=model._meta.label_lower, pk=pk, field=f.name
    )
    return f.from_text(text)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedMixin]:
    return [
        cast(EncryptedMixin, f)
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedMixin)
    ]


class BlindIndexField(models.CharField):  # type: ignore[type-arg]  # django-stubs generic
    """A blind-index column kept in step with its source fields on every save.

    ``indexer`` is the dotted path of a function ``(instance) -> dict[column, value]``; the column
    is computed from the instance's plain values, so no writer can forget it.
    """

    def __init__(self, *args: Any, indexer: str = "", **kwargs: Any) -> None:
        self.indexer = indexer
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["indexer"] = self.indexer
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        from django.utils.module_loading import import_string

        value = import_string(self.indexer)(model_instance)[self.attname]
        setattr(model_instance, self.attname, value)
        return value
