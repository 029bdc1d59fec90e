"""Signing the report's files: a manifest of their SHA-256 digests, signed by the node's key.

``manifest.txt`` lists each file with its digest and names the signer (its public key and
fingerprint); ``manifest.sig`` holds the Ed25519 signature (hex) of
``"entraide/report" || 0x00 || manifest.txt`` (domain separation: a report signature can never
pass for a message signature, whose context is ``"entraide/envelope" || 0x00``). Anyone with
the household's public key checks a report with :func:`verify_report`
(``entraide report verify DIR``); the fingerprint printed on every page tells which key to
expect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.signing

from protocol.errors import PeerError
from protocol.fingerprint import fingerprint

from ..fsutil import atomic_write
from ..identity import Identity

__all__ = [
    "MANIFEST",
    "REPORT_CONTEXT",
    "SIGNATURE",
    "BadReportSignature",
    "Verified",
    "sign_files",
    "verify_report",
]

REPORT_CONTEXT = b"entraide/report\x00"
MANIFEST = "manifest.txt"
SIGNATURE = "manifest.sig"
_HEADER = "entraide signed report v1"


class BadReportSignature(PeerError):
    """A report's files do not match their signed manifest (altered, or signed by another
    key than the one expected)."""

    code = "bad-report-signature"


@dataclass(frozen=True)
class Verified:
    signer: bytes
    fingerprint: str
    files: tuple[str, ...]


def sign_files(folder: Path, names: list[str], identity: Identity) -> None:
    """Write the manifest of ``folder``/``names`` and its signature by ``identity``."""
    lines = [
        _HEADER,
        f"signer {identity.public_key.hex()}",
        f"fingerprint {identity.fingerprint}",
    ]
    for name in sorted(names):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        lines.append(f"sha256 {digest} {name}")
    manifest = ("\n".join(lines) + "\n").encode("utf-8")
    signature = identity.sign(REPORT_CONTEXT + manifest)
    atomic_write(folder / MANIFEST, manifest, 0o644)
    atomic_write(folder / SIGNATURE, signature.hex().encode() + b"\n", 0o644)


def verify_report(folder: Path, expected: bytes | None = None) -> Verified:
    """Check ``folder``'s manifest signature and every file it lists."""
    try:
        manifest = (folder / MANIFEST).read_bytes()
        signature = bytes.fromhex((folder / SIGNATURE).read_text("ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BadReportSignature(f"{folder}: no readable signed manifest ({exc})") from None
    lines = manifest.decode("utf-8", "replace").splitlines()
    if len(lines) < 3 or lines[0] != _HEADER or not lines[1].startswith("signer "):
        raise BadReportSignature(f"{folder / MANIFEST}: not an entraide report manifest")
    try:
        signer = bytes.fromhex(lines[1].removeprefix("signer "))
        nacl.signing.VerifyKey(signer).verify(REPORT_CONTEXT + manifest, signature)
    except (ValueError, nacl.exceptions.CryptoError):
        raise BadReportSignature(f"{folder}: the manifest's signature does not verify") from None
    if expected is not None and signer != expected:
        raise BadReportSignature(
            f"{folder}: signed by {fingerprint(signer)}, not by {fingerprint(expected)}"
        )
    files = []
    for line in lines[3:]:
        _, digest, name = line.split(" ", 2)
        path = folder / name
        if "/" in name or name.startswith("."):
            raise BadReportSignature(f"{folder}: the manifest names {name!r}")
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise BadReportSignature(f"{path}: missing ({exc.strerror})") from None
        if actual != digest:
            raise BadReportSignature(f"{path}: altered since it was signed")
        files.append(name)
    return Verified(signer, fingerprint(signer), tuple(files))
