"""LoRa airtime and duty cycle, as Meshtastic firmware configures the radio.

Pure: no meshtastic import, no clock (times are passed in, in seconds).

Airtime follows the Semtech SX127x datasheet formula (section 4.1.1.7) with the settings the
firmware uses: explicit header, payload CRC on, a 16-symbol preamble, and low data rate
optimisation whenever a symbol lasts longer than 16 ms. ``frame_bytes`` is the whole LoRa
frame: the 16-byte Meshtastic header plus the encoded ``Data`` protobuf.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

MESH_HEADER_BYTES = 16
MAX_LORA_FRAME_BYTES = 255

# Payload limits measured against firmware (see shared/reference/meshtastic.md): the header
# and 2 bytes of Data overhead must fit in 255 bytes.
MAX_PRIVATE_PAYLOAD_BYTES = 231
MAX_TEXT_PAYLOAD_BYTES = 232

_LOW_DATA_RATE_SYMBOL_S = 0.016


@dataclass(frozen=True)
class ModemPreset:
    """One Meshtastic modem preset. ``coding_rate`` is the denominator of 4/5..4/8."""

    name: str
    spreading_factor: int
    bandwidth_hz: float
    coding_rate: int
    preamble_symbols: int = 16

    def __post_init__(self) -> None:
        if not 7 <= self.spreading_factor <= 12:
            raise ValueError(f"preset {self.name}: spreading factor {self.spreading_factor}")
        if not 5 <= self.coding_rate <= 8:
            raise ValueError(f"preset {self.name}: coding rate 4/{self.coding_rate}")

    @property
    def symbol_s(self) -> float:
        return float(2**self.spreading_factor) / self.bandwidth_hz

    @property
    def low_data_rate_optimize(self) -> bool:
        return self.symbol_s > _LOW_DATA_RATE_SYMBOL_S

    @property
    def bit_rate_bps(self) -> float:
        """Raw bit rate: SF × (4/CR) × BW / 2^SF."""
        return self.spreading_factor * (4 / self.coding_rate) / self.symbol_s


# Spreading factor, bandwidth and coding rate of each preset, as set by the firmware.
PRESETS: dict[str, ModemPreset] = {
    p.name: p
    for p in (
        ModemPreset("SHORT_TURBO", 7, 500_000, 5),
        ModemPreset("SHORT_FAST", 7, 250_000, 5),
        ModemPreset("SHORT_SLOW", 8, 250_000, 5),
        ModemPreset("MEDIUM_FAST", 9, 250_000, 5),
        ModemPreset("MEDIUM_SLOW", 10, 250_000, 5),
        ModemPreset("LONG_FAST", 11, 250_000, 5),
        ModemPreset("LONG_MODERATE", 11, 125_000, 8),
        ModemPreset("LONG_SLOW", 12, 125_000, 8),
    )
}
DEFAULT_PRESET = "LONG_FAST"


def airtime_s(frame_bytes: int, preset: ModemPreset) -> float:
    """Time on air of a LoRa frame of ``frame_bytes`` bytes (header included), in seconds."""
    if not 0 <= frame_bytes <= MAX_LORA_FRAME_BYTES:
        raise ValueError(f"a LoRa frame is 0 to {MAX_LORA_FRAME_BYTES} bytes, not {frame_bytes}")
    sf = preset.spreading_factor
    de = 1 if preset.low_data_rate_optimize else 0
    crc_bits = 16  # payload CRC on
    explicit_header = 0  # the formula's H is 0 when the header is present
    numerator = 8 * frame_bytes - 4 * sf + 28 + crc_bits - 20 * explicit_header
    payload_symbols = 8 + max(math.ceil(numerator / (4 * (sf - 2 * de))) * preset.coding_rate, 0)
    preamble_s = (preset.preamble_symbols + 4.25) * preset.symbol_s
    return preamble_s + payload_symbols * preset.symbol_s


@dataclass(frozen=True)
class Region:
    """A regulatory region. ``duty_cycle`` is the fraction of a rolling hour a node may
    transmit (1.0: no limit); ``dwell_s`` the longest single transmission on one channel, if
    the rules set one (the firmware does not enforce it; it is noted for planning)."""

    name: str
    duty_cycle: float
    dwell_s: float | None = None
    note: str = ""


REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        Region(
            "EU_868",
            0.10,
            note="869.40-869.65 MHz sub-band: 10 % per rolling hour; relays count",
        ),
        Region("EU_433", 0.10, note="10 % per rolling hour"),
        Region("UA_868", 0.01, note="1 % per rolling hour"),
        Region("UA_433", 0.10, note="10 % per rolling hour"),
        Region(
            "US",
            1.0,
            dwell_s=0.4,
            note="no duty cycle; FCC 400 ms dwell per channel: LongFast frames over ~20 B "
            "exceed it",
        ),
        Region("ANZ", 1.0),
        Region("CN", 1.0),
        Region("JP", 1.0),
        Region("KR", 1.0),
        Region("TW", 1.0),
        Region("IN", 1.0),
        Region("RU", 1.0),
        Region("NZ_865", 1.0),
        Region("TH", 1.0),
        Region("LORA_24", 1.0),
    )
}
DEFAULT_REGION = "EU_868"


class DutyCycleLedger:
    """Transmit time spent in a rolling window (one hour by default).

    Time is kept in buckets of ``bucket_s`` seconds, so memory is bounded by
    ``window_s / bucket_s`` whatever the traffic. A bucket counts whole until all of it has
    left the window: the ledger errs on the side of refusing (at most one bucket early).
    """

    def __init__(
        self, duty_cycle: float, *, window_s: float = 3600.0, bucket_s: float = 60.0
    ) -> None:
        if not 0 < duty_cycle <= 1:
            raise ValueError(f"duty cycle is a fraction in (0, 1], not {duty_cycle}")
        if bucket_s <= 0 or window_s < bucket_s:
            raise ValueError("need 0 < bucket_s <= window_s")
        self.duty_cycle = duty_cycle
        self.window_s = window_s
        self.bucket_s = bucket_s
        self._buckets: deque[list[float]] = deque()  # [bucket index, seconds], oldest first

    def _prune(self, now: float) -> None:
        first_live = math.floor((now - self.window_s) / self.bucket_s)
        while self._buckets and self._buckets[0][0] < first_live:
            self._buckets.popleft()

    def record(self, now: float, seconds: float) -> None:
        """Count ``seconds`` of transmission started at ``now``."""
        if seconds < 0:
            raise ValueError("negative airtime")
        self._prune(now)
        index = math.floor(now / self.bucket_s)
        if self._buckets and self._buckets[-1][0] >= index:
            self._buckets[-1][1] += seconds  # same bucket (or a clock that went back)
        else:
            self._buckets.append([index, seconds])

    def used(self, now: float) -> float:
        """Seconds transmitted within the window ending at ``now``."""
        self._prune(now)
        return sum(seconds for _, seconds in self._buckets)

    def fraction(self, now: float) -> float:
        """Share of the window spent transmitting (compare with ``duty_cycle``)."""
        return self.used(now) / self.window_s

    def would_exceed(self, now: float, seconds: float) -> bool:
        """Whether transmitting ``seconds`` more now would go over the duty cycle."""
        if self.duty_cycle >= 1:
            return False
        return self.used(now) + seconds > self.duty_cycle * self.window_s
