"""Bundles: envelopes in a file carried by hand (a USB stick between two cut-off streets).

Format (SPEC.md, "Bundle file")::

    bundle = MAGIC (8 bytes: "ENTRAID1") || record*
    record = length (2 bytes, big-endian, 1..MAX_ENVELOPE_BYTES) || envelope

A bundle carries envelopes exactly as signed; the importer verifies each one like any
other received message, so a bundle needs no signature of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .envelope import MAX_ENVELOPE_BYTES
from .errors import DecodeError, Oversize, Truncated, UsageError

__all__ = ["MAGIC", "encode_bundle", "iter_bundle"]

MAGIC = b"ENTRAID1"


def encode_bundle(envelopes: Iterable[bytes]) -> bytes:
    """Concatenate envelopes into one bundle."""
    parts = [MAGIC]
    for raw in envelopes:
        if not 0 < len(raw) <= MAX_ENVELOPE_BYTES:
            raise UsageError(f"bundle: an envelope of {len(raw)} bytes cannot be bundled")
        parts.append(len(raw).to_bytes(2, "big"))
        parts.append(raw)
    return b"".join(parts)


def iter_bundle(data: bytes) -> Iterator[bytes]:
    """Yield the envelopes of a bundle in order.

    Raises :class:`DecodeError` if it is not a bundle, :class:`Truncated` if it stops in the
    middle of a record (the records before are still yielded first), :class:`Oversize` for a
    record longer than any envelope can be.
    """
    if data[: len(MAGIC)] != MAGIC:
        raise DecodeError("not an entraide bundle (wrong magic bytes)")
    pos = len(MAGIC)
    index = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise Truncated(f"bundle: record {index} is cut off in its length")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length == 0:
            raise DecodeError(f"bundle: record {index} is empty")
        if length > MAX_ENVELOPE_BYTES:
            raise Oversize(f"bundle: record {index} claims {length} bytes")
        end = pos + 2 + length
        if end > len(data):
            raise Truncated(
                f"bundle: record {index} is cut off ({len(data) - pos - 2} of {length} bytes)"
            )
        yield data[pos + 2 : end]
        pos = end
        index += 1
