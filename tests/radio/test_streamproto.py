"""The stream framing: frames, log text between them, resynchronisation."""

from __future__ import annotations

import pytest

from radio.streamproto import (
    MAX_FRAME_PAYLOAD,
    Frame,
    FrameDecoder,
    LogLine,
    encode_frame,
    encode_log_line,
)


def test_round_trip_byte_by_byte() -> None:
    payloads = [b"", b"\x94\xc3", bytes(range(256)) * 2]
    stream = b"".join(encode_frame(p) for p in payloads)
    decoder = FrameDecoder()
    events = []
    for i in range(len(stream)):
        events += decoder.feed(stream[i : i + 1])
    assert events == [Frame(p) for p in payloads]
    assert encode_frame(b"ab")[:4] == bytes([0x94, 0xC3, 0, 2])


def test_log_text_and_wake_up_bytes_between_frames() -> None:
    stream = (
        bytes([0xC3] * 32)
        + encode_frame(b"one")
        + encode_log_line("INFO | booted")
        + b"partial \x94 line\n"
        + encode_frame(b"two")
    )
    assert FrameDecoder().feed(stream) == [
        Frame(b"one"),
        LogLine("INFO | booted"),
        LogLine("partial \ufffd line"),
        Frame(b"two"),
    ]


def test_oversized_length_resynchronises() -> None:
    decoder = FrameDecoder()
    bogus = bytes([0x94, 0xC3, 0x7F, 0xFF])
    assert decoder.feed(bogus + encode_frame(b"ok")) == [Frame(b"ok")]
    assert decoder.dropped_headers == 1
    with pytest.raises(ValueError):
        encode_frame(b"x" * (MAX_FRAME_PAYLOAD + 1))
