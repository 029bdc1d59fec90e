"""The household identity: one Ed25519 key, stored as its 32-byte seed in ``identity.key``.

The key file lives in the node's home directory, is written atomically with mode 0600 and is
refused on load if group or others can read or write it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from nacl.signing import SigningKey

from node.fsutil import atomic_write
from protocol.errors import LocalError, UsageError
from protocol.fingerprint import fingerprint

__all__ = [
    "IDENTITY_FILE",
    "SEED_SIZE",
    "CorruptKeyFile",
    "Identity",
    "IdentityExists",
    "InsecureKeyFile",
    "KeystoreError",
    "NoIdentity",
    "create_identity",
    "identity_path",
    "load_identity",
]

IDENTITY_FILE = "identity.key"
SEED_SIZE = 32


class KeystoreError(LocalError):
    """The identity key file is missing, unusable or must not be touched."""

    code = "keystore"


class NoIdentity(KeystoreError):
    """No identity has been created in this home directory yet."""

    code = "no-identity"


class IdentityExists(KeystoreError):
    """Creating an identity would destroy the one already there."""

    code = "identity-exists"


class InsecureKeyFile(KeystoreError):
    """The key file can be read or written by users other than its owner."""

    code = "insecure-key-file"


class CorruptKeyFile(KeystoreError):
    """The key file is not a 32-byte seed."""

    code = "corrupt-key-file"


@dataclass(frozen=True)
class Identity:
    """A household's signing key and the public key others know it by."""

    signing_key: SigningKey = field(repr=False, compare=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", bytes(self.signing_key.verify_key))

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        if len(seed) != SEED_SIZE:
            raise UsageError(f"an identity seed is {SEED_SIZE} bytes, got {len(seed)}")
        return cls(SigningKey(bytes(seed)))

    @classmethod
    def generate(cls) -> Identity:
        return cls(SigningKey.generate())

    @property
    def fingerprint(self) -> str:
        """The 4×5-digit fingerprint to compare aloud (see ``protocol.fingerprint``)."""
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte detached Ed25519 signature of ``data``."""
        return self.signing_key.sign(data).signature


def identity_path(home: Path) -> Path:
    return home / IDENTITY_FILE


def create_identity(home: Path, *, overwrite: bool = False, seed: bytes | None = None) -> Identity:
    """Create (or, with ``overwrite=True``, replace) the identity of the node at ``home``.

    A random key is generated unless ``seed`` is given. ``home`` is created (mode 0700) if
    needed.
    """
    identity = Identity.generate() if seed is None else Identity.from_seed(seed)
    path = identity_path(home)
    if not overwrite and path.exists():
        raise _exists(path)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        atomic_write(path, bytes(identity.signing_key), 0o600, replace=overwrite)
    except FileExistsError:  # created by someone else since the check above
        raise _exists(path) from None
    except OSError as exc:
        raise KeystoreError.tr(
            "cannot write identity key file {path}: {reason}", path=str(path), reason=exc.strerror
        ) from exc
    return identity


def load_identity(home: Path) -> Identity:
    """Load the identity of the node at ``home``, refusing a key file others could read."""
    path = identity_path(home)
    try:
        # Never follow a link planted in the home, never block on a FIFO put in its place.
        flags = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NoIdentity.tr(
            "no identity in {home} (missing {path}); run `entraide init` to create one",
            home=str(home),
            path=str(path),
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorruptKeyFile.tr(
                "identity key file {path} is a symbolic link; put the key file itself there",
                path=str(path),
            ) from None
        raise KeystoreError.tr(
            "cannot open identity key file {path}: {reason}", path=str(path), reason=exc.strerror
        ) from exc
    try:
        st = os.fstat(fd)  # the file we opened, not whatever the path names now
        if not stat.S_ISREG(st.st_mode):
            raise CorruptKeyFile.tr(
                "identity key file {path} is not a regular file", path=str(path)
            )
        if os.name == "posix" and st.st_mode & 0o077:
            raise InsecureKeyFile.tr(
                "identity key file {path} is accessible to other users (mode {mode}); anyone "
                "who can read it can sign as this household. Fix with: chmod 600 {path}",
                path=str(path),
                mode=f"{stat.S_IMODE(st.st_mode):04o}",
            )
        seed = os.read(fd, SEED_SIZE + 1)
    except OSError as exc:
        raise KeystoreError.tr(
            "cannot read identity key file {path}: {reason}", path=str(path), reason=exc.strerror
        ) from exc
    finally:
        os.close(fd)
    if len(seed) != SEED_SIZE:
        raise CorruptKeyFile.tr(
            "identity key file {path} holds {size} bytes, expected exactly {expected}; restore "
            "it from a backup, or move it away and run `entraide init` for a new identity",
            path=str(path),
            size=len(seed) if len(seed) <= SEED_SIZE else f"> {SEED_SIZE}",
            expected=SEED_SIZE,
        )
    return Identity.from_seed(seed)


def _exists(path: Path) -> IdentityExists:
    return IdentityExists.tr(
        "an identity already exists at {path}; replacing it would destroy this household's "
        "identity for good (neighbours would no longer recognise it); "
        "refusing to overwrite it unless explicitly asked to",
        path=str(path),
    )
