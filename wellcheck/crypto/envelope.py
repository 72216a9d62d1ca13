"""AES-256-GCM values bound to their table, row and field.

Format: ``wc1:<data key id>:<base64(nonce[12] || ciphertext || tag[16])>``. The associated data is
``<app.model>:<pk>:<field>:<data key id>``, so a value copied to another row, field or table, or
relabelled with another key id, fails to decrypt instead of showing up in the wrong place.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Callable

from cryptography.exceptions import InvalidTag

from wellcheck.crypto import keyring
from wellcheck.crypto.errors import NotCiphertext, WrongKey

PREFIX = "wc1:"
# A bulk sealer draws this many random nonces per system call (a getrandom call costs several
# microseconds on a virtual machine; the importer seals tens of thousands of cells a second).
NONCES_PER_DRAW = 4096


def _pk_text(pk: object) -> str:
    """One spelling per key: UUIDs hyphenated whether given as UUID, hex or hyphenated text."""
    if isinstance(pk, str) and len(pk) in (32, 36):
        try:
            return str(uuid.UUID(pk))
        except ValueError:
            return pk
    return str(pk)


def aad(model_label: str, pk: object, field: str, dek_id: str) -> bytes:
    return f"{model_label.lower()}:{_pk_text(pk)}:{field}:{dek_id}".encode()


def is_ciphertext(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(ciphertext: str) -> str:
    if not is_ciphertext(ciphertext):
        raise NotCiphertext("The value is not WellCheck ciphertext.")
    return ciphertext.split(":", 2)[1]


def encrypt(
    plaintext: str,
    *,
    model_label: str,
    pk: object,
    field: str,
    dek_id: str,
    nonce: bytes | None = None,
) -> str:
    """Encrypt ``plaintext`` for one cell under data key ``dek_id`` with a fresh random 96-bit
    nonce: drawn here, or given by a bulk writer that draws many at once (:class:`CellSealer`)."""
    if nonce is None:
        nonce = secrets.token_bytes(12)
    elif len(nonce) != 12:
        raise ValueError("an AES-GCM nonce here is 12 bytes")
    sealed = keyring.aead(dek_id).encrypt(
        nonce, plaintext.encode(), aad(model_label, pk, field, dek_id)
    )
    return f"{PREFIX}{dek_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(ciphertext: str, *, model_label: str, pk: object, field: str) -> str:
    """Decrypt one cell. Raises (never returns garbage) on a wrong key, row, field or table."""
    if not is_ciphertext(ciphertext):
        raise NotCiphertext(
            f"{model_label}.{field} of row {pk} holds data that is not WellCheck ciphertext "
            "(unencrypted or damaged)."
        )
    _, dek_id, body = ciphertext.split(":", 2)
    blob = base64.b64decode(body)
    try:
        plain = keyring.aead(dek_id).decrypt(
            blob[:12], blob[12:], aad(model_label, pk, field, dek_id)
        )
    except InvalidTag as exc:
        raise WrongKey(
            f"{model_label}.{field} of row {pk} does not decrypt with data key {dek_id}: "
            "the key is wrong, or the value was moved from another row or field."
        ) from exc
    return plain.decode()


class CellSealer:
    """Encrypts many cells of one table under one data key (a bulk writer's batch). Each cell is
    exactly what :func:`encrypt` gives for the same plaintext, row, field, key and nonce: same
    format, same associated data; the constants of the batch (the AES-GCM object, the label and
    key-id parts of the associated data, the prefix) are computed once, and the row's key text
    once per row (:meth:`row`), not once per cell. Nonces: random 96-bit, drawn from the
    operating system 4,096 at a time (``NONCES_PER_DRAW``), each used once. Not shared between
    threads. ``random_bytes`` is for tests only."""

    def __init__(
        self, model_label: str, dek_id: str, *, random_bytes: Callable[[int], bytes] | None = None
    ) -> None:
        self._encrypt = keyring.aead(dek_id).encrypt
        self._head = f"{PREFIX}{dek_id}:"
        self._label = f"{model_label.lower()}:".encode()
        self._dek_id = dek_id
        self._tails: dict[str, bytes] = {}
        self._random = random_bytes or secrets.token_bytes
        self._nonces = b""
        self._at = 0

    def tail(self, field: str) -> bytes:
        """The field's part of the associated data (``:<field>:<data key id>``)."""
        tail = self._tails.get(field)
        if tail is None:
            tail = self._tails[field] = f":{field}:{self._dek_id}".encode()
        return tail

    def row(self, pk: object) -> bytes:
        """The row's part of the associated data (``<app.model>:<pk>``), once per row."""
        if type(pk) is uuid.UUID:  # str(pk), spelled faster
            h = pk.int.to_bytes(16, "big").hex()
            return self._label + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()
        return self._label + _pk_text(pk).encode()

    def seal(self, plaintext: str, row: bytes, tail: bytes) -> str:
        """One cell: ``row`` from :meth:`row`, ``tail`` from :meth:`tail`."""
        at = self._at
        if at >= len(self._nonces):
            self._nonces, at = self._random(12 * NONCES_PER_DRAW), 0
        nonce = self._nonces[at : at + 12]
        self._at = at + 12
        sealed = self._encrypt(nonce, plaintext.encode(), row + tail)
        return self._head + binascii.b2a_base64(nonce + sealed, newline=False).decode()
