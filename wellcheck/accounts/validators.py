"""Password validators beyond Django's: an offline list of words this system's users reach for.

Django's ``CommonPasswordValidator`` (20,000 leaked passwords, shipped with Django) covers the
general list; this one refuses passwords built around the system's own vocabulary (the product,
policing words, the agency's name), which a generic list cannot know. No web lookup: the police
networks this runs on are air-gapped.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

BANNED_WORDS = (
    "wellcheck",
    "wellness",
    "welfare",
    "police",
    "sheriff",
    "officer",
    "patrol",
    "dispatch",
    "badge",
    "precinct",
    "password",
    "letmein",
    "changeme",
    "welcome",
    "qwerty",
)


def _squash(text: str) -> str:
    """Lower case, digits that stand for letters mapped back, everything else dropped."""
    leet = str.maketrans(
        {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
    )
    return re.sub(r"[^a-z]", "", text.lower().translate(leet))


class BannedWordsValidator:
    """Refuses a password that is mostly a banned word (or the agency's name) plus padding."""

    def validate(self, password: str, user: Any = None) -> None:
        squashed = _squash(password)
        words = list(BANNED_WORDS)
        agency = getattr(user, "agency", None) if user is not None else None
        if agency is not None:
            words += [
                _squash(agency.slug),
                *(_squash(w) for w in agency.name.split() if len(w) > 3),
            ]
        for word in filter(None, words):
            # "Police2024!" squashes to "police": the rest is padding a guesser tries first.
            if word in squashed and len(squashed) - len(word) < 4:
                raise ValidationError(
                    "This password is built on a word that attackers try first (%(word)s). "
                    "Use a longer phrase of unrelated words.",
                    code="password_banned_word",
                    params={"word": word},
                )

    def get_help_text(self) -> str:
        return "Your password can't be built on a word such as 'police' or the agency's name."
