"""Key providers: where key-encryption keys (KEKs) and the blind-index root key come from.

A provider hands out 32-byte keys by id and names the current KEK. Two are built in:

* :class:`FileKeyProvider` (default): one file per key in ``WELLCHECK_KEY_DIR`` (default
  ``<data>/secrets/keys``), created on first use with mode 0600; ``CURRENT`` names the KEK in use.
* :class:`EnvKeyProvider`: ``WELLCHECK_KEKS="kek-a:<base64>,kek-b:<base64>"``,
  ``WELLCHECK_KEK_CURRENT=kek-b`` and ``WELLCHECK_INDEX_KEY=<base64>``. Read-only: rotation and
  destruction are done by the operator changing the environment.

A KMS or HSM replaces them by implementing :class:`KeyProvider` (``wrap``/``unwrap`` could then run
inside the device; here the KEK bytes are handed to AES-GCM in process).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import time
from pathlib import Path
from typing import Protocol

from django.conf import settings

from wellcheck.crypto.errors import CryptoError, KeyMissing

KEY_BYTES = 32
REREAD_SECONDS = 5.0
INDEX_KEY_ID = "index-root"


class KeyProvider(Protocol):
    def kek(self, kek_id: str) -> bytes: ...
    def current_kek_id(self) -> str: ...
    def kek_ids(self) -> list[str]: ...
    def new_kek(self) -> str: ...
    def destroy_kek(self, kek_id: str) -> None: ...
    def index_root_key(self) -> bytes: ...


def _new_id() -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"kek-{stamp}-{secrets.token_hex(3)}"


def _decode(kek_id: str, text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise CryptoError(f"Key {kek_id} is not valid base64.") from exc
    if len(raw) != KEY_BYTES:
        raise CryptoError(f"Key {kek_id} must be {KEY_BYTES} bytes, found {len(raw)}.")
    return raw


class FileKeyProvider:
    """Keys as files in one directory (mode 0700), each file 0600, created on first use.

    A key's bytes are remembered with the file's identity (inode, size, change times) for a few
    seconds, so a read costs one ``stat`` instead of open, read and decode; a removed or replaced
    file is seen at the next read (a missing file still fails loudly).
    """

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)
        self._read: dict[str, tuple[tuple[int, int, int, int], float, bytes]] = {}

    def _load(self, kek_id: str, path: Path) -> bytes:
        """The key in ``path``; FileNotFoundError when it is gone."""
        st = os.stat(path)
        now = time.monotonic()
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        hit = self._read.get(kek_id)
        if hit is not None and hit[0] == stamp and hit[1] > now:
            return hit[2]
        key = _decode(kek_id, path.read_text())
        # Re-read after a few seconds even if the identity looks the same (file times are coarse:
        # an in-place rewrite of the same size within one clock tick would not change them).
        self._read[kek_id] = (stamp, now + REREAD_SECONDS, key)
        return key

    def _path(self, kek_id: str) -> Path:
        if not kek_id or "/" in kek_id or kek_id.startswith("."):
            raise CryptoError(f"Invalid key id {kek_id!r}.")
        return self.dir / f"{kek_id}.key"

    def _write_new(self, kek_id: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path(kek_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode())

    def kek(self, kek_id: str) -> bytes:
        path = self._path(kek_id)
        try:
            return self._load(kek_id, path)
        except FileNotFoundError:
            raise KeyMissing(
                f"Key-encryption key {kek_id} is missing: expected the file {path}. Restore it "
                "from the key backup; data wrapped by it cannot be read without it."
            ) from None

    def current_kek_id(self) -> str:
        pointer = self.dir / "CURRENT"
        if pointer.exists():
            return pointer.read_text().strip()
        if self.kek_ids():
            raise KeyMissing(
                f"{pointer} is missing although keys exist; name the current KEK in it."
            )
        kek_id = _new_id()
        self._write_new(kek_id)
        self._set_current(kek_id)
        return kek_id

    def _set_current(self, kek_id: str) -> None:
        tmp = self.dir / f"CURRENT.{secrets.token_hex(4)}"
        tmp.write_text(kek_id)
        os.chmod(tmp, 0o600)
        tmp.replace(self.dir / "CURRENT")

    def kek_ids(self) -> list[str]:
        if not self.dir.exists():
            return []
        return sorted(p.stem for p in self.dir.glob("kek-*.key"))

    def new_kek(self) -> str:
        kek_id = _new_id()
        while self._path(kek_id).exists():
            kek_id = _new_id()
        self._write_new(kek_id)
        self._set_current(kek_id)
        return kek_id

    def destroy_kek(self, kek_id: str) -> None:
        if kek_id == self.current_kek_id():
            raise CryptoError(f"Refusing to destroy {kek_id}: it is the current key.")
        path = self._path(kek_id)
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as fh:  # overwrite before unlinking (best effort on SSDs)
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
        self._read.pop(kek_id, None)

    def index_root_key(self) -> bytes:
        path = self._path(INDEX_KEY_ID)
        if not path.exists():
            try:
                self._write_new(INDEX_KEY_ID)
            except FileExistsError:
                pass
        return _decode(INDEX_KEY_ID, path.read_text())


class EnvKeyProvider:
    """Keys from the environment. Read-only: the operator rotates by changing the variables."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._keks: dict[str, bytes] = {}
        for item in env.get("WELLCHECK_KEKS", "").split(","):
            if item.strip():
                kek_id, _, value = item.strip().partition(":")
                self._keks[kek_id] = _decode(kek_id, value)
        self._current = env.get("WELLCHECK_KEK_CURRENT", "") or (
            max(self._keks) if self._keks else ""
        )
        self._index = env.get("WELLCHECK_INDEX_KEY", "")

    def kek(self, kek_id: str) -> bytes:
        if kek_id not in self._keks:
            raise KeyMissing(
                f"Key-encryption key {kek_id} is not in WELLCHECK_KEKS; add it back to read data "
                "wrapped by it."
            )
        return self._keks[kek_id]

    def current_kek_id(self) -> str:
        if self._current not in self._keks:
            raise KeyMissing(f"WELLCHECK_KEK_CURRENT={self._current!r} is not in WELLCHECK_KEKS.")
        return self._current

    def kek_ids(self) -> list[str]:
        return sorted(self._keks)

    def new_kek(self) -> str:
        raise CryptoError("Keys from the environment are read-only: add a key to WELLCHECK_KEKS.")

    def destroy_kek(self, kek_id: str) -> None:
        raise CryptoError(f"Remove {kek_id} from WELLCHECK_KEKS to destroy it.")

    def index_root_key(self) -> bytes:
        if not self._index:
            raise KeyMissing("WELLCHECK_INDEX_KEY is not set (the blind-index root key).")
        return _decode(INDEX_KEY_ID, self._index)


_provider: KeyProvider | None = None


def _marker() -> str:
    """What the configured provider depends on; a change (e.g. a test's key dir) rebuilds it."""
    return (
        f"{os.environ.get('WELLCHECK_KEKS', '')[:8]}|{getattr(settings, 'WELLCHECK_KEY_DIR', '')}"
    )


_provider_for: str = ""


def get_provider() -> KeyProvider:
    """The configured provider (environment when ``WELLCHECK_KEKS`` is set, else the key files)."""
    global _provider, _provider_for
    key_dir = str(getattr(settings, "WELLCHECK_KEY_DIR", ""))
    marker = _marker()
    if _provider is None or marker != _provider_for:
        if os.environ.get("WELLCHECK_KEKS"):
            _provider = EnvKeyProvider()
        else:
            _provider = FileKeyProvider(Path(key_dir))
        _provider_for = marker
    return _provider


def set_provider(provider: KeyProvider | None) -> None:
    """Install a provider (a KMS adapter, or a test's). ``None`` returns to the configured one."""
    global _provider, _provider_for
    _provider = provider
    _provider_for = "" if provider is None else _marker()
