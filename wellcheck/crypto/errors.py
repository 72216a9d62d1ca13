"""Errors of the encryption layer. Messages name key ids, tables and fields, never plaintext."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class: something about keys or ciphertext is wrong. Never returns garbage instead."""


class KeyMissing(CryptoError):
    """A key named by a ciphertext or a wrapped data key is not available from the provider."""


class WrongKey(CryptoError):
    """A key is present but does not open what it should (wrong file, wrong environment value)."""


class KeyDestroyed(CryptoError):
    """The data key was destroyed on purpose (crypto-shredding): the value is gone for good."""


class NotCiphertext(CryptoError):
    """An encrypted column holds something that is not WellCheck ciphertext."""


class PlaintextWriteRefused(CryptoError):
    """A plaintext value reached an encrypted column without its row context (e.g. ``update()``)."""
