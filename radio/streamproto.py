"""The Meshtastic stream framing (serial and TCP alike), sans-I/O.

A frame is ``0x94 0xC3 <length, 2 bytes big-endian> <protobuf>`` with at most 512 bytes of
protobuf. Anything between frames is text: a device's log output, or the 32 wake-up bytes
(``0xC3``) a client sends first. The decoder hands frames and complete text lines back
separately, and resynchronises on a length over the limit the way the library's reader does
(drop the header, look for the next start byte).
"""

from __future__ import annotations

from dataclasses import dataclass

START1 = 0x94
START2 = 0xC3
HEADER_BYTES = 4
MAX_FRAME_PAYLOAD = 512
MAX_LOG_LINE = 1024  # longer text runs are cut into lines of this size


def encode_frame(payload: bytes) -> bytes:
    """One frame around ``payload`` (a serialised ToRadio or FromRadio)."""
    if len(payload) > MAX_FRAME_PAYLOAD:
        raise ValueError(f"frame payload of {len(payload)} bytes (max {MAX_FRAME_PAYLOAD})")
    return bytes((START1, START2, len(payload) >> 8, len(payload) & 0xFF)) + payload


def encode_log_line(text: str) -> bytes:
    """Log text as a device prints it between frames."""
    return text.replace("\n", " ").encode("utf-8", "replace") + b"\r\n"


@dataclass(frozen=True)
class Frame:
    payload: bytes


@dataclass(frozen=True)
class LogLine:
    text: str


class FrameDecoder:
    """Bytes in, ``Frame``/``LogLine`` events out (``feed`` returns them in order)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._text = bytearray()
        self.dropped_headers = 0  # headers with a length over the limit

    def feed(self, data: bytes) -> list[Frame | LogLine]:
        self._buffer += data
        events: list[Frame | LogLine] = []
        while self._buffer:
            start = self._buffer.find(START1)
            if start != 0:
                text_end = len(self._buffer) if start < 0 else start
                self._take_text(self._buffer[:text_end], events)
                del self._buffer[:text_end]
                continue
            if len(self._buffer) < 2:
                break
            if self._buffer[1] != START2:
                self._take_text(self._buffer[:1], events)
                del self._buffer[:1]
                continue
            if len(self._buffer) < HEADER_BYTES:
                break
            length = (self._buffer[2] << 8) | self._buffer[3]
            if length > MAX_FRAME_PAYLOAD:
                self.dropped_headers += 1
                del self._buffer[:HEADER_BYTES]
                continue
            if len(self._buffer) < HEADER_BYTES + length:
                break
            self._flush_text(events)
            events.append(Frame(bytes(self._buffer[HEADER_BYTES : HEADER_BYTES + length])))
            del self._buffer[: HEADER_BYTES + length]
        return events

    def _take_text(self, chunk: bytes | bytearray, events: list[Frame | LogLine]) -> None:
        for byte in chunk:
            if byte == START2 and not self._text:
                continue  # wake-up bytes, not text
            if byte == 0x0A:
                self._flush_text(events)
            elif byte != 0x0D:
                self._text.append(byte)
                if len(self._text) >= MAX_LOG_LINE:
                    self._flush_text(events)

    def _flush_text(self, events: list[Frame | LogLine]) -> None:
        if self._text:
            events.append(LogLine(self._text.decode("utf-8", "replace")))
            self._text.clear()
