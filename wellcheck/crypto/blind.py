"""Blind indexes (after CipherSweet): keyed, truncated HMAC-SHA256 of normalised values.

Each index has its own key, derived from the provider's index root key with HKDF-style HMAC and
the index name, so indexes cannot be compared with each other. Values are truncated to
``BITS`` bits: several people share a value (false positives the search removes after
decrypting), which limits what a leaked table reveals. What an index leaks: equality and
frequency of the (truncated) indexed value within the table; nothing without the key.

Forgiving search uses phonetic codes (Metaphone, from ``jellyfish``): "Jon Smyth" and
"John Smith" both code to ``JN`` / ``SM0``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import threading
import unicodedata

import jellyfish

from wellcheck.crypto.providers import get_provider

BITS = 24
HEX_CHARS = BITS // 4
_NON_LETTER = re.compile(r"[^a-z\s]")
_SPACE = re.compile(r"\s+")
_lock = threading.Lock()
_index_keys: dict[str, bytes] = {}


def reset_caches() -> None:
    with _lock:
        _index_keys.clear()


def index_key(name: str) -> bytes:
    key = _index_keys.get(name)
    if key is None:
        key = hmac.new(
            get_provider().index_root_key(), f"index:{name}".encode(), hashlib.sha256
        ).digest()
        with _lock:
            _index_keys[name] = key
    return key


def blind(index: str, value: str) -> str:
    """The truncated keyed index of an already normalised value; empty for an empty value."""
    if not value:
        return ""
    return hmac.new(index_key(index), value.encode(), hashlib.sha256).hexdigest()[:HEX_CHARS]


def normalise_name(text: str) -> str:
    """NFKC, no accents, casefolded, no punctuation or extra spaces: "O'Brien" -> "obrien"."""
    text = text or ""
    if text.isascii():  # ASCII is unchanged by NFKC/NFKD, has no combining marks: same result
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("'", "").replace("\u2019", "").replace("-", " ")
    text = _NON_LETTER.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def phonetic(text: str) -> str:
    """Metaphone of each word of a normalised name, joined by spaces."""
    return phonetic_of_normalised(normalise_name(text))


def phonetic_of_normalised(normalised: str) -> str:
    """:func:`phonetic` of a value already passed through :func:`normalise_name`."""
    return " ".join(jellyfish.metaphone(w) for w in normalised.split())


def name_values(given: str, family: str) -> dict[str, str]:
    """The normalised and phonetic forms a person's name is indexed (and re-checked) by."""
    return name_values_of_normalised(normalise_name(given), normalise_name(family))


def name_values_of_normalised(g: str, f: str) -> dict[str, str]:
    """:func:`name_values` of a given and family name already normalised."""
    fp = phonetic_of_normalised(f)
    return {
        "name": f"{f}|{g}" if (f or g) else "",
        "name_phonetic": f"{fp}|{phonetic_of_normalised(g)}" if (f or g) else "",
        "family_phonetic": fp,
    }


def person_indexes(given: str, family: str, birth_date: dt.date | None) -> dict[str, str]:
    """All blind indexes of one person (column name -> value)."""
    values = name_values(given, family)
    return {
        "name_key": blind("person.name", values["name"]),
        "name_phonetic_key": blind("person.name_phonetic", values["name_phonetic"]),
        "family_phonetic_key": blind("person.family_phonetic", values["family_phonetic"]),
        "birth_date_key": blind("person.birth_date", birth_date.isoformat() if birth_date else ""),
        "birth_year_key": blind("person.birth_year", str(birth_date.year) if birth_date else ""),
    }


def split_name(text: str) -> tuple[str, str]:
    """ "Smith, John" or "John Smith" -> ("John", "Smith"); one word is a family name."""
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip(), family.strip()
    words = text.split()
    if len(words) == 1:
        return "", words[0]
    return " ".join(words[:-1]), words[-1] if words else ""


def alias_indexes(alias: str) -> dict[str, str]:
    """The blind indexes of one alias ("Johnny Smith", "Smith, J"), under keys of their own: a
    leaked table does not show which alias equals another person's name."""
    values = name_values(*split_name(alias))
    return {
        "name_key": blind("person.alias_name", values["name"]),
        "name_phonetic_key": blind("person.alias_name_phonetic", values["name_phonetic"]),
        "family_phonetic_key": blind("person.alias_family_phonetic", values["family_phonetic"]),
    }


def person_indexes_of(person: object) -> dict[str, str]:
    """The indexer of ``people.Person`` (see ``BlindIndexField``)."""
    return person_indexes(
        getattr(person, "given_name", "") or "",
        getattr(person, "family_name", "") or "",
        getattr(person, "date_of_birth", None),
    )
