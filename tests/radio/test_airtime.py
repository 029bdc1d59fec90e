"""Airtime by the Semtech formula and the rolling-hour duty-cycle ledger."""

from __future__ import annotations

import pytest

from radio.airtime import (
    MESH_HEADER_BYTES,
    PRESETS,
    REGIONS,
    DutyCycleLedger,
    ModemPreset,
    airtime_s,
)

# Measured table from shared/reference/meshtastic.md (whole LoRa frame, milliseconds).
TABLE = {
    "LONG_FAST": {50: 641, 100: 1010, 200: 1747, 237: 2034},
    "MEDIUM_FAST": {50: 181, 100: 293, 200: 519, 237: 601},
}


@pytest.mark.parametrize(
    ("preset", "frame_bytes", "ms"),
    [(p, n, ms) for p, row in TABLE.items() for n, ms in row.items()],
)
def test_airtime_matches_reference_table(preset: str, frame_bytes: int, ms: int) -> None:
    assert round(airtime_s(frame_bytes, PRESETS[preset]) * 1000) == ms


def test_presets_and_limits() -> None:
    assert set(PRESETS) == {
        "LONG_FAST",
        "LONG_SLOW",
        "LONG_MODERATE",
        "MEDIUM_FAST",
        "MEDIUM_SLOW",
        "SHORT_FAST",
        "SHORT_SLOW",
        "SHORT_TURBO",
    }
    assert MESH_HEADER_BYTES == 16
    # LongSlow's 32.8 ms symbols switch on low data rate optimisation; LongFast's do not.
    assert PRESETS["LONG_SLOW"].low_data_rate_optimize
    assert not PRESETS["LONG_FAST"].low_data_rate_optimize
    assert 1000 < PRESETS["LONG_FAST"].bit_rate_bps < 1100
    # Airtime grows with size and with slower presets.
    assert airtime_s(100, PRESETS["LONG_SLOW"]) > airtime_s(100, PRESETS["LONG_FAST"])
    assert airtime_s(10, PRESETS["SHORT_TURBO"]) < airtime_s(10, PRESETS["SHORT_FAST"])
    with pytest.raises(ValueError):
        airtime_s(256, PRESETS["LONG_FAST"])
    with pytest.raises(ValueError):
        ModemPreset("X", 6, 125_000, 5)


def test_regions() -> None:
    assert REGIONS["EU_868"].duty_cycle == 0.10
    assert REGIONS["US"].duty_cycle == 1.0
    assert REGIONS["US"].dwell_s == 0.4


def test_ledger_rolling_hour() -> None:
    ledger = DutyCycleLedger(0.10)
    assert not ledger.would_exceed(0, 360)
    assert ledger.would_exceed(0, 360.1)
    for minute in range(30):
        ledger.record(minute * 60.0, 10.0)
    assert ledger.used(1799) == pytest.approx(300)
    assert ledger.fraction(1799) == pytest.approx(300 / 3600)
    assert ledger.would_exceed(1799, 61)
    assert not ledger.would_exceed(1799, 60)
    # An hour after the first records they have left the window, one minute at a time.
    assert ledger.used(3600 + 60 * 10 + 1) == pytest.approx(200)
    assert ledger.used(3600 * 3) == 0
    assert not ledger.would_exceed(3600 * 3, 360)


def test_ledger_memory_is_bounded() -> None:
    ledger = DutyCycleLedger(1.0)
    for i in range(100_000):
        ledger.record(i * 0.5, 0.01)  # 14 hours of 2 frames a second
    assert len(ledger._buckets) <= 62
    assert ledger.used(50_000) == pytest.approx(3600 * 2 * 0.01, rel=0.02)
    assert not ledger.would_exceed(50_000, 3000)  # no duty cycle in this region
