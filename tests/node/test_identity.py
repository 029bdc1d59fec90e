"""The household identity keystore and the spoken fingerprint."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey, VerifyKey

from node.fsutil import atomic_write
from node.identity import (
    CorruptKeyFile,
    Identity,
    IdentityExists,
    InsecureKeyFile,
    KeystoreError,
    NoIdentity,
    create_identity,
    identity_path,
    load_identity,
)
from protocol.errors import LocalError, UsageError
from protocol.fingerprint import fingerprint

SEED = bytes(range(32))
FINGERPRINT_SHAPE = re.compile(r"\d{5} \d{5} \d{5} \d{5}")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- create and load --------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    created = create_identity(tmp_path)
    loaded = load_identity(tmp_path)
    assert loaded == created
    assert loaded.public_key == created.public_key
    assert len(loaded.public_key) == 32
    assert bytes(loaded.signing_key) == bytes(created.signing_key)


def test_file_is_raw_seed(tmp_path: Path) -> None:
    identity = create_identity(tmp_path, seed=SEED)
    assert identity_path(tmp_path).read_bytes() == SEED
    assert identity.public_key == bytes(SigningKey(SEED).verify_key)


def test_sign_gives_detached_signature(tmp_path: Path) -> None:
    identity = create_identity(tmp_path)
    signature = identity.sign(b"besoin: 2 bouteilles d'eau")
    assert len(signature) == 64
    VerifyKey(identity.public_key).verify(b"besoin: 2 bouteilles d'eau", signature)


def test_mode_is_0600_after_create(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # the mode must not depend on the umask
    try:
        create_identity(tmp_path)
    finally:
        os.umask(old_umask)
    assert mode_of(identity_path(tmp_path)) == 0o600


def test_create_makes_missing_home_private(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    create_identity(home)
    assert mode_of(home) == 0o700
    load_identity(home)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660, 0o602])
def test_refuses_key_readable_or_writable_by_others(tmp_path: Path, mode: int) -> None:
    create_identity(tmp_path)
    path = identity_path(tmp_path)
    path.chmod(mode)
    with pytest.raises(InsecureKeyFile) as excinfo:
        load_identity(tmp_path)
    assert f"chmod 600 {path}" in str(excinfo.value)
    path.chmod(0o600)  # the fix the message gives works
    load_identity(tmp_path)


def test_accepts_owner_read_only_key(tmp_path: Path) -> None:
    create_identity(tmp_path)
    identity_path(tmp_path).chmod(0o400)
    load_identity(tmp_path)


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_wrong_length_is_corrupt(tmp_path: Path, size: int) -> None:
    atomic_write(identity_path(tmp_path), b"\x07" * size, 0o600)
    with pytest.raises(CorruptKeyFile, match="expected exactly 32"):
        load_identity(tmp_path)


def test_directory_in_place_of_key_is_corrupt(tmp_path: Path) -> None:
    identity_path(tmp_path).mkdir(mode=0o700)
    with pytest.raises(CorruptKeyFile, match="not a regular file"):
        load_identity(tmp_path)


def test_missing_key_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(NoIdentity, match="entraide init"):
        load_identity(tmp_path)
    with pytest.raises(NoIdentity):
        load_identity(tmp_path / "does-not-exist")


def test_no_overwrite_without_flag(tmp_path: Path) -> None:
    first = create_identity(tmp_path)
    path = identity_path(tmp_path)
    with pytest.raises(IdentityExists) as excinfo:
        create_identity(tmp_path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "destroy" in message
    assert load_identity(tmp_path) == first  # untouched


def test_overwrite_with_flag(tmp_path: Path) -> None:
    first = create_identity(tmp_path)
    second = create_identity(tmp_path, overwrite=True)
    assert second != first
    assert load_identity(tmp_path) == second
    assert mode_of(identity_path(tmp_path)) == 0o600


def test_no_overwrite_even_if_file_appears_during_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the key between our check and our write: it must survive.
    path = identity_path(tmp_path)
    real_link = os.link

    def racing_link(src: Path, dst: Path) -> None:
        path.write_bytes(b"\x01" * 32)
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(IdentityExists):
        create_identity(tmp_path)
    assert path.read_bytes() == b"\x01" * 32
    assert os.listdir(tmp_path) == ["identity.key"]


def test_seed_of_wrong_length_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        create_identity(tmp_path, seed=b"short")
    assert not identity_path(tmp_path).exists()


def test_error_classes() -> None:
    classes = [KeystoreError, NoIdentity, IdentityExists, InsecureKeyFile, CorruptKeyFile]
    assert all(issubclass(cls, KeystoreError) for cls in classes)
    assert issubclass(KeystoreError, LocalError)
    assert all(cls.fault == "local" for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)


def test_repr_does_not_show_secret(tmp_path: Path) -> None:
    identity = create_identity(tmp_path, seed=SEED)
    assert SEED.hex() not in repr(identity)
    assert "signing_key" not in repr(identity)


# --- atomic writes -----------------------------------------------------------------------------


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    create_identity(tmp_path)
    create_identity(tmp_path, overwrite=True)
    assert os.listdir(tmp_path) == ["identity.key"]


def test_atomic_write_removes_temp_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def failing_replace(src: Path, dst: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        atomic_write(target, b"new", 0o600)
    assert os.listdir(tmp_path) == ["file"]
    assert target.read_bytes() == b"old"


def test_atomic_write_replace_false_refuses_existing(tmp_path: Path) -> None:
    target = tmp_path / "file"
    atomic_write(target, b"first", 0o640, replace=False)
    assert mode_of(target) == 0o640
    with pytest.raises(FileExistsError):
        atomic_write(target, b"second", 0o600, replace=False)
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["file"]


# --- fingerprints -------------------------------------------------------------------------------


def test_fingerprint_test_vector() -> None:
    # Seed bytes(range(32)) = 00 01 02 .. 1f. Its Ed25519 public key (PyNaCl/libsodium) is
    # 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8.
    # SHA-256(b"entraide fingerprint v1\x00" + public key) starts 2338beab6892bbca77;
    # as a big-endian integer that is 649724936557160024695, mod 10**20 = 49724936557160024695,
    # grouped by five. (Computed with hashlib and PyNaCl in a Python shell.)
    public_key = bytes(SigningKey(SEED).verify_key)
    assert public_key.hex() == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    assert fingerprint(public_key) == "49724 93655 71600 24695"
    assert Identity.from_seed(SEED).fingerprint == "49724 93655 71600 24695"


def test_fingerprint_is_deterministic_and_distinct() -> None:
    a = bytes(SigningKey(SEED).verify_key)
    b = bytes(SigningKey(bytes(32)).verify_key)
    assert fingerprint(a) == fingerprint(bytes(a))
    assert fingerprint(a) != fingerprint(b)


@given(st.binary(min_size=32, max_size=32))
def test_fingerprint_shape(public_key: bytes) -> None:
    assert FINGERPRINT_SHAPE.fullmatch(fingerprint(public_key))


def test_fingerprint_needs_32_bytes() -> None:
    with pytest.raises(UsageError):
        fingerprint(bytes(31))


def test_refuses_a_symlinked_or_fifo_key_file(tmp_path: Path) -> None:
    real = tmp_path / "real"
    create_identity(real)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "identity.key").symlink_to(real / "identity.key")
    with pytest.raises(CorruptKeyFile, match="symbolic link"):
        load_identity(linked)
    piped = tmp_path / "piped"
    piped.mkdir()
    os.mkfifo(piped / "identity.key", 0o600)
    with pytest.raises(CorruptKeyFile, match="not a regular file"):
        load_identity(piped)  # must not block waiting for a writer
