"""Fingerprints of public keys, for two people to compare by reading digits aloud.

A fingerprint is 20 decimal digits in four groups of five, e.g. ``"01234 56789 01234 56789"``.
Digits are read the same way in French and English, need no alphabet, and a mismatch in any
group is easy to hear::

    digest = SHA-256(b"entraide fingerprint v1\\x00" || public_key)
    n      = int.from_bytes(digest[0:9], "big") mod 10**20
    text   = n as 20 zero-padded digits, grouped 5 5 5 5 with single spaces

72 bits are taken and reduced to about 66.4 bits; the slight bias of the reduction is harmless
for comparison by humans.
"""

from __future__ import annotations

import hashlib

from .errors import UsageError

__all__ = ["FINGERPRINT_DOMAIN", "PUBLIC_KEY_SIZE", "digits_of", "fingerprint"]

#: Domain-separation prefix hashed before the key, so the digest means nothing elsewhere.
FINGERPRINT_DOMAIN = b"entraide fingerprint v1\x00"
#: Size of an Ed25519 public key in bytes.
PUBLIC_KEY_SIZE = 32

_DIGITS = 20
_GROUP = 5
_TAKE_BYTES = 9


def fingerprint(public_key: bytes) -> str:
    """Return the 4×5-digit fingerprint of a 32-byte Ed25519 public key."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise UsageError(
            f"a fingerprint needs a {PUBLIC_KEY_SIZE}-byte public key, got {len(public_key)} bytes"
        )
    return digits_of(FINGERPRINT_DOMAIN, bytes(public_key))


def digits_of(domain: bytes, data: bytes) -> str:
    """The 4×5 digits of ``SHA-256(domain || data)``, as above (also a charter's)."""
    digest = hashlib.sha256(domain + data).digest()
    number = int.from_bytes(digest[:_TAKE_BYTES], "big") % 10**_DIGITS
    digits = f"{number:0{_DIGITS}d}"
    return " ".join(digits[i : i + _GROUP] for i in range(0, _DIGITS, _GROUP))
