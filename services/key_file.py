"""The key file: one key-encryption key (KEK) per athlete, outside the database.

The database holds each athlete's data key only wrapped with that athlete's KEK
(:mod:`services.keyring`); the KEKs live here, in ``<data dir>/keys/kek`` (folder 0700, file
0600).  Erasure rewrites the file without the athlete's KEK: the new file is written beside
it, synced and renamed over it, then the old file's bytes are overwritten.  Any copy of the
database (its WAL, a table file, a backup) then holds that athlete's key wrapped under a KEK
that no longer exists, while everybody else's KEK is still here.

Each rewrite bumps the file's ``generation``: a process sees an erasure made elsewhere by a
``stat`` of the file (:meth:`KeyFile.changed`).  With ``TRAINLEDGER_MASTER_KEY`` (base64 of
32 bytes) the file's contents are sealed with it (AES-256-GCM); it protects the file only.
Writers serialise on ``keys/kek.lock`` (``flock``), across processes.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.config import ConfigError

FOLDER = "keys"
NAME = "kek"
FORMAT = 1
SEALED_AD = b"trainledger key file"


class KeyFileError(ConfigError):
    """The key file cannot be read (missing, damaged, or sealed with another master key)."""


def master_key(value: str | None) -> bytes | None:
    """``TRAINLEDGER_MASTER_KEY``: base64 of 32 bytes, or None."""
    if not value:
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError("TRAINLEDGER_MASTER_KEY must be base64 of 32 random bytes "
                          "(e.g. `head -c32 /dev/urandom | base64`)")
    return key


@dataclass
class Keks:
    """The file's contents: its generation and each owner's KEK."""

    generation: int = 0
    keks: dict[str, bytes] = field(default_factory=dict)


class KeyFile:
    def __init__(self, data_dir: Path, master: bytes | None = None) -> None:
        self.folder = data_dir / FOLDER
        self.path = self.folder / NAME
        self.master = master
        self._stamp: tuple[int, int, int] | None = None
        self.unsealed = False  # read in clear although a master key is set: seal it

    def exists(self) -> bool:
        return self.path.exists()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        """Whether the file was rewritten since this object last read or wrote it."""
        return self._stat() != self._stamp

    def read(self) -> Keks:
        """The file's contents (empty when there is no file yet)."""
        stamp = self._stat()
        if stamp is None:
            self._stamp = None
            return Keks()
        try:
            data = json.loads(self.path.read_bytes())
            self.unsealed = "sealed" not in data and self.master is not None
            if "sealed" in data:
                data = self._open(data)
            keks = Keks(int(data["generation"]),
                        {owner: base64.b64decode(k) for owner, k in data["keks"].items()})
        except KeyFileError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            if self._stat() != stamp:  # replaced while we read (its old bytes zeroed): again
                return self.read()
            raise KeyFileError(f"{self.path}: damaged key file ({exc})") from exc
        self._stamp = stamp
        return keks

    def _open(self, data: dict[str, object]) -> dict[str, object]:
        if self.master is None:
            raise KeyFileError(f"{self.path}: sealed with a master key; set "
                               "TRAINLEDGER_MASTER_KEY")
        sealed = base64.b64decode(str(data["sealed"]))
        try:
            plain = AESGCM(self.master).decrypt(sealed[:12], sealed[12:], SEALED_AD)
        except InvalidTag as exc:
            raise KeyFileError(f"{self.path}: TRAINLEDGER_MASTER_KEY does not open this "
                               "key file") from exc
        opened: dict[str, object] = json.loads(plain)
        return opened

    def write(self, keks: Keks) -> None:
        """Replace the file with ``keks`` (generation bumped), then overwrite the old one."""
        keks.generation += 1
        body = json.dumps({"format": FORMAT, "generation": keks.generation,
                           "keks": {o: base64.b64encode(k).decode()
                                    for o, k in sorted(keks.keks.items())}}).encode()
        if self.master is not None:
            nonce = os.urandom(12)
            sealed = nonce + AESGCM(self.master).encrypt(nonce, body, SEALED_AD)
            body = json.dumps({"format": FORMAT, "generation": keks.generation,
                               "sealed": base64.b64encode(sealed).decode()}).encode()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        tmp = self.folder / f"{NAME}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        old = os.open(self.path, os.O_WRONLY) if self.path.exists() else None
        try:
            os.replace(tmp, self.path)
            _sync_folder(self.folder)
            if old is not None:  # the replaced file's bytes: zeros, not old KEKs
                size = os.fstat(old).st_size
                os.pwrite(old, b"\0" * size, 0)
                os.fsync(old)
        finally:
            if old is not None:
                os.close(old)
        self._stamp = self._stat()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writers' lock (every process of this data directory)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.folder / f"{NAME}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
