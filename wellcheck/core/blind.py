"""Keyed equality indexes ("blind indexes") over identifying text, after the CipherSweet design.

An index value is HMAC-SHA256 of the normalised text under a key that never sits in the database,
so equal addresses can be matched (earlier checks at the same address) without storing or
comparing plaintext. What it leaks: equality and frequency of the indexed value, nothing more.
The key comes from ``WELLCHECK_ADDRESS_INDEX_KEY`` or ``<data>/secrets/address_index_key``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

_SPACE = re.compile(r"\s+")  # what the join(split()) below collapses
_PUNCT = re.compile(r"[^\w\s/]")


# ASCII text (most addresses): NFKC leaves it as it is, casefold() is lower(), and _PUNCT
# matches exactly the characters that are neither alphanumeric, "_", whitespace nor "/"; one
# bytes.translate does both (lower case, punctuation to a space).
_ASCII_TABLE = bytes(
    ord(" ") if not (c.isalnum() or c == "_" or c.isspace() or c == "/") else ord(c.lower())
    for c in map(chr, range(256))
)


def normalise_address(text: str) -> str:
    """Case-, space- and punctuation-insensitive block address (``,MKE`` style suffixes kept)."""
    if text.isascii():
        text = text.encode("ascii").translate(_ASCII_TABLE).decode("ascii")
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        text = _PUNCT.sub(" ", text)
    # str.split() splits on, and drops at the ends, the characters \s matches: the same as
    # _SPACE.sub(" ", text).strip().
    return " ".join(text.split())


@lru_cache(maxsize=8)
def _key(name: str) -> bytes:
    from wellcheck.settings import read_secret

    return read_secret(name).encode()


@lru_cache(maxsize=8)
def _pads(name: str) -> tuple[Any, Any]:
    """The HMAC-SHA256 inner and outer hash states after the key's padded blocks (RFC 2104)."""
    key = _key(name)
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (
        hashlib.sha256(bytes(k ^ 0x36 for k in key)),
        hashlib.sha256(bytes(k ^ 0x5C for k in key)),
    )


def keyed_index(value: str, *, key_name: str) -> str:
    """HMAC-SHA256 of ``value`` under the named key, in hex: ``hmac.new(key, value,
    sha256).hexdigest()``, from hash states with the key's blocks already absorbed."""
    inner, outer = _pads(key_name)
    h = inner.copy()
    h.update(value.encode())
    o = outer.copy()
    o.update(h.digest())
    digest: str = o.hexdigest()
    return digest


def address_key(address: str) -> str:
    """The blind index of a block address; empty for an empty address."""
    norm = normalise_address(address)
    if not norm:
        return ""
    return keyed_index(norm, key_name="address_index_key")
