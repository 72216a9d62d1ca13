"""Keyed equality indexes ("blind indexes") over identifying text, after the CipherSweet design.

An index value is HMAC-SHA256 of the normalised text under a key that never sits in the database,
so equal addresses can be matched (earlier checks at the same address) without storing or
comparing plaintext. What it leaks: equality and frequency of the indexed value, nothing more.
The key comes from ``WELLCHECK_ADDRESS_INDEX_KEY`` or ``<data>/secrets/address_index_key``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s/]")


def normalise_address(text: str) -> str:
    """Case-, space- and punctuation-insensitive block address (``,MKE`` style suffixes kept)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=8)
def _key(name: str) -> bytes:
    from wellcheck.settings import read_secret

    return read_secret(name).encode()


def keyed_index(value: str, *, key_name: str) -> str:
    return hmac.new(_key(key_name), value.encode(), hashlib.sha256).hexdigest()


def address_key(address: str) -> str:
    """The blind index of a block address; empty for an empty address."""
    norm = normalise_address(address)
    if not norm:
        return ""
    return keyed_index(norm, key_name="address_index_key")
