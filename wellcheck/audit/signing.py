"""Ed25519 signed checkpoints in the C2SP ``tlog-checkpoint`` / ``signed-note`` text formats.

A checkpoint body is three lines: the log's origin, the tree size in decimal, the base64 Merkle
root. The signed note appends a blank line and one signature line
``— <name> base64(key hash [4 bytes] || Ed25519 signature)``, where the key hash is the first four
bytes of ``SHA-256(name || "\\n" || 0x01 || public key)``. The verifier key of the log, which can
be published, is ``<name>+<key hash hex>+base64(0x01 || public key)``.

The private key lives in a file outside the database (``WELLCHECK_AUDIT_SIGNING_KEY_FILE``),
created with mode 0600 on first use. Whoever controls the database alone cannot sign.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

ALG_ED25519 = b"\x01"
DASH = "\u2014"


class CheckpointError(ValueError):
    """A checkpoint note that is malformed or whose signature does not verify."""


HEAD = "wellcheck-head "  # extension line: the row_hash of event ``tree_size`` (hex)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root: bytes
    head: bytes | None = None  # the chain's row_hash at ``tree_size`` (checkpoints since 0004)


def origin() -> str:
    return str(getattr(settings, "WELLCHECK_AUDIT_ORIGIN", "wellcheck/audit"))


def key_file() -> Path:
    configured = getattr(settings, "WELLCHECK_AUDIT_SIGNING_KEY_FILE", None)
    if configured:
        return Path(configured)
    return Path(settings.DATA_DIR) / "secrets" / "audit_signing_key"


def load_private_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The signing key, created (mode 0600) if the file does not exist yet."""
    path = path or key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} does not hold an Ed25519 private key")
    return key


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, public: Ed25519PublicKey) -> bytes:
    data = name.encode() + b"\n" + ALG_ED25519 + _raw_public(public)
    return hashlib.sha256(data).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The publishable verifier key string (C2SP signed-note)."""
    encoded = base64.b64encode(ALG_ED25519 + _raw_public(public)).decode()
    return f"{name}+{key_hash(name, public).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    try:
        name, hash_hex, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise CheckpointError(f"not a verifier key (name+hash+key): {exc}") from exc
    if raw[:1] != ALG_ED25519 or len(raw) != 33:
        raise CheckpointError("verifier key is not an Ed25519 key")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_hash(name, public).hex() != hash_hex:
        raise CheckpointError("verifier key hash does not match its name and key")
    return name, public


def body(checkpoint: Checkpoint) -> str:
    """Origin, size, root; then, as a C2SP extension line, the chain's head hash at that size."""
    root = base64.b64encode(checkpoint.root).decode()
    text = f"{checkpoint.origin}\n{checkpoint.tree_size}\n{root}\n"
    if checkpoint.head is not None:
        text += f"{HEAD}{checkpoint.head.hex()}\n"
    return text


def sign(checkpoint: Checkpoint, private: Ed25519PrivateKey) -> str:
    """The signed note text for ``checkpoint``."""
    text = body(checkpoint)
    name = checkpoint.origin
    signature = private.sign(text.encode())
    blob = base64.b64encode(key_hash(name, private.public_key()) + signature).decode()
    return f"{text}\n{DASH} {name} {blob}\n"


def open_note(note: str, name: str, public: Ed25519PublicKey) -> Checkpoint:
    """Parse a signed checkpoint and check its signature by ``name``'s key."""
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise CheckpointError("checkpoint note has no signature block")
    text += "\n"
    wanted = key_hash(name, public)
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError as exc:
            raise CheckpointError(f"bad signature encoding: {exc}") from exc
        if blob[:4] != wanted:
            continue
        try:
            public.verify(blob[4:], text.encode())
        except InvalidSignature as exc:
            raise CheckpointError("checkpoint signature does not verify") from exc
        return _parse_body(text)
    raise CheckpointError(f"checkpoint is not signed by the key {name!r}")


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4:
        raise CheckpointError("checkpoint body needs origin, tree size and root")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise CheckpointError(f"malformed checkpoint body: {exc}") from exc
    if size < 0 or len(root) != 32 or str(size) != lines[1]:
        raise CheckpointError("malformed checkpoint body: size or root")
    head = None
    for line in lines[3:]:
        if line.startswith(HEAD):
            try:
                head = bytes.fromhex(line[len(HEAD) :])
            except ValueError as exc:
                raise CheckpointError(f"malformed checkpoint head: {exc}") from exc
            if len(head) != 32:
                raise CheckpointError("malformed checkpoint head: not 32 bytes")
    return Checkpoint(origin=lines[0], tree_size=size, root=root, head=head)
