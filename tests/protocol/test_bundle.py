"""Bundles: envelopes in a file carried by hand (SPEC.md section 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protocol.bundle import MAGIC, encode_bundle, iter_bundle
from protocol.envelope import MAX_ENVELOPE_BYTES, Policy, accept
from protocol.errors import DecodeError, Oversize, PeerError, Truncated, UsageError

VECTORS = json.loads(Path(__file__).with_name("vectors.json").read_text(encoding="utf-8"))
ENVELOPES = [bytes.fromhex(v["envelope"]) for v in VECTORS["valid"]]
NOW = VECTORS["now"]
POLICY = Policy(bridge_keys=frozenset(bytes.fromhex(k) for k in VECTORS["valid"][0]["bridge_keys"]))


def read_all(data: bytes) -> tuple[list[bytes], PeerError | None]:
    """The records yielded before the bundle failed, and the failure."""
    out: list[bytes] = []
    try:
        for record in iter_bundle(data):
            out.append(record)
    except PeerError as exc:
        return out, exc
    return out, None


def test_magic() -> None:
    assert MAGIC == b"ENTRAID1"
    assert MAGIC.hex() == "454e545241494431"


def test_round_trip() -> None:
    data = encode_bundle(ENVELOPES)
    assert data.startswith(MAGIC)
    assert list(iter_bundle(data)) == ENVELOPES
    assert len(data) == 8 + sum(2 + len(e) for e in ENVELOPES)


def test_spec_example() -> None:
    data = encode_bundle([ENVELOPES[0]])
    assert data.hex() == "454e545241494431" + "0077" + ENVELOPES[0].hex()


def test_empty_bundle() -> None:
    assert encode_bundle([]) == MAGIC
    assert list(iter_bundle(MAGIC)) == []


def test_records_are_carried_unchanged_and_checked_by_the_importer() -> None:
    corrupted = bytearray(ENVELOPES[1])
    corrupted[-1] ^= 1
    data = encode_bundle([ENVELOPES[0], bytes(corrupted), ENVELOPES[2], ENVELOPES[0]])
    accepted, refused = [], []
    for record in iter_bundle(data):
        try:
            accepted.append(accept(record, now=NOW, policy=POLICY).id)
        except PeerError as exc:
            refused.append(exc.code)
    assert refused == ["bad-signature"]
    assert len(accepted) == 3
    assert len(set(accepted)) == 2  # a duplicate has the same id


def test_largest_record() -> None:
    record = b"\x01" * MAX_ENVELOPE_BYTES
    data = encode_bundle([record])
    assert data[8:10] == b"\x08\x00"
    assert list(iter_bundle(data)) == [record]


def test_encode_refuses_what_no_envelope_can_be() -> None:
    for raw in (b"", b"\x01" * (MAX_ENVELOPE_BYTES + 1)):
        with pytest.raises(UsageError, match="cannot be bundled"):
            encode_bundle([raw])


@pytest.mark.parametrize(
    "data",
    [b"", b"ENTRAID", b"ENTRAID2", b"entraid1", b"\x00" * 8, b"ENTRAID0" + b"\x00\x05hello"],
)
def test_wrong_magic(data: bytes) -> None:
    records, exc = read_all(data)
    assert records == []
    assert type(exc) is DecodeError
    assert "wrong magic" in str(exc)


def test_truncated_in_a_length_yields_the_records_before() -> None:
    data = encode_bundle(ENVELOPES[:2]) + b"\x00"
    records, exc = read_all(data)
    assert records == ENVELOPES[:2]
    assert type(exc) is Truncated
    assert "record 2 is cut off in its length" in str(exc)


def test_truncated_in_a_record_yields_the_records_before() -> None:
    full = encode_bundle(ENVELOPES[:3])
    for cut in (1, 2, len(ENVELOPES[2]) + 1):
        records, exc = read_all(full[:-cut])
        assert records == ENVELOPES[:2]
        assert type(exc) is Truncated, cut
        assert "record 2 is cut off" in str(exc)


def test_every_truncation_is_a_truncated_error_or_a_shorter_bundle() -> None:
    full = encode_bundle(ENVELOPES[:4])
    for end in range(len(MAGIC), len(full)):
        records, exc = read_all(full[:end])
        assert records == ENVELOPES[: len(records)]
        assert exc is None or type(exc) is Truncated


@pytest.mark.parametrize("length", [MAX_ENVELOPE_BYTES + 1, 0x7FFF, 0xFFFF])
def test_oversize_record(length: int) -> None:
    data = encode_bundle(ENVELOPES[:1]) + length.to_bytes(2, "big") + b"\x01" * length
    records, exc = read_all(data)
    assert records == ENVELOPES[:1]
    assert type(exc) is Oversize
    assert f"record 1 claims {length} bytes" in str(exc)


def test_zero_length_record_is_refused() -> None:
    records, exc = read_all(MAGIC + b"\x00\x00" + b"\x00\x05hello")
    assert records == []
    assert type(exc) is DecodeError
    assert "record 0 is empty" in str(exc)


def test_bytes_like_input() -> None:
    data = encode_bundle(ENVELOPES[:3])
    assert [bytes(r) for r in iter_bundle(memoryview(data))] == ENVELOPES[:3]
    assert [bytes(r) for r in iter_bundle(bytearray(data))] == ENVELOPES[:3]
