"""Node configuration: home resolution and config.toml."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import platformdirs
import pytest
import tomli_w

from node.config import (
    Config,
    ConfigError,
    NotInitialised,
    ZoneSettings,
    config_path,
    default_language,
    ensure_home,
    load_config,
    new_zone_id,
    parse_zone_id,
    resolve_home,
    save_config,
)
from protocol.errors import LocalError, UsageError

BRIDGE = bytes(range(32))
GOOD_ZONE: dict[str, Any] = {
    "zone_id": "3f2a9c01",
    "name": "Quartier Saint-Michel",
    "bridge_keys": [BRIDGE.hex()],
    "bootstrap_peers": ["/ip4/192.168.1.10/tcp/4001"],
    "max_clock_skew_s": 300,
}


def sample_config() -> Config:
    return Config(
        zone=ZoneSettings(
            zone_id=bytes.fromhex("3f2a9c01"),
            name="Quartier Saint-Michel",
            bridge_keys=[BRIDGE, bytes(32)],
            bootstrap_peers=["/ip4/192.168.1.10/tcp/4001", "/dns4/relais.example/tcp/4001"],
            max_clock_skew_s=300,
        ),
        language="fr",
    )


def write_toml(home: Path, doc: dict[str, Any]) -> None:
    config_path(home).write_text(tomli_w.dumps(doc), encoding="utf-8")


def with_zone(**changes: Any) -> dict[str, Any]:
    return {"language": "en", "zone": {**GOOD_ZONE, **changes}}


def without_zone_key(key: str) -> dict[str, Any]:
    zone = {k: v for k, v in GOOD_ZONE.items() if k != key}
    return {"language": "en", "zone": zone}


# --- round trip -------------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    config = sample_config()
    save_config(tmp_path, config)
    assert load_config(tmp_path) == config


def test_saved_file_is_readable_toml_with_lowercase_hex(tmp_path: Path) -> None:
    save_config(tmp_path, sample_config())
    text = config_path(tmp_path).read_text(encoding="utf-8")
    assert 'zone_id = "3f2a9c01"' in text
    assert BRIDGE.hex() in text
    assert os.listdir(tmp_path) == ["config.toml"]  # no temp file left behind
    assert stat.S_IMODE(config_path(tmp_path).stat().st_mode) == 0o600


def test_save_replaces_previous(tmp_path: Path) -> None:
    save_config(tmp_path, sample_config())
    changed = sample_config()
    changed.zone.name = "Les Pentes"
    save_config(tmp_path, changed)
    assert load_config(tmp_path).zone.name == "Les Pentes"


def test_defaults_for_optional_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    write_toml(tmp_path, {"zone": {"zone_id": "00000001", "name": "Z"}})
    config = load_config(tmp_path)
    assert config.language == "fr"
    assert config.zone.bridge_keys == []
    assert config.zone.bootstrap_peers == []
    assert config.zone.max_clock_skew_s == 600


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    doc = with_zone(future_option=[1, 2])
    doc["something_new"] = {"a": 1}
    write_toml(tmp_path, doc)
    assert load_config(tmp_path).zone.zone_id == bytes.fromhex("3f2a9c01")


def test_uppercase_hex_is_accepted(tmp_path: Path) -> None:
    write_toml(tmp_path, with_zone(zone_id="3F2A9C01", bridge_keys=[BRIDGE.hex().upper()]))
    config = load_config(tmp_path)
    assert config.zone.zone_id == bytes.fromhex("3f2a9c01")
    assert config.zone.bridge_keys == [BRIDGE]


# --- bad files --------------------------------------------------------------------------------


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"language": "de", "zone": GOOD_ZONE}, "language"),
    ({"language": 1, "zone": GOOD_ZONE}, "language"),
    ({"language": "en", "zone": "3f2a9c01"}, "zone"),
    (with_zone(zone_id="3f2a9c"), "zone.zone_id"),
    (with_zone(zone_id="3f2a9c0102"), "zone.zone_id"),
    (with_zone(zone_id="3f2a9c0g"), "zone.zone_id"),
    (with_zone(zone_id="3f2a 9c0"), "zone.zone_id"),
    (with_zone(zone_id=0x3F2A9C01), "zone.zone_id"),
    (with_zone(name=""), "zone.name"),
    (with_zone(name="   "), "zone.name"),
    (with_zone(name="x" * 65), "zone.name"),
    (with_zone(name="two\nlines"), "zone.name"),
    (with_zone(name=42), "zone.name"),
    (with_zone(bridge_keys=BRIDGE.hex()), "zone.bridge_keys"),
    (with_zone(bridge_keys=[BRIDGE.hex()[:-2]]), "zone.bridge_keys[0]"),
    (with_zone(bridge_keys=[BRIDGE.hex(), BRIDGE.hex() + "00"]), "zone.bridge_keys[1]"),
    (with_zone(bridge_keys=[1]), "zone.bridge_keys[0]"),
    (with_zone(bootstrap_peers="/ip4/1.2.3.4/tcp/1"), "zone.bootstrap_peers"),
    (with_zone(bootstrap_peers=["ip4/1.2.3.4/tcp/1"]), "zone.bootstrap_peers[0]"),
    (with_zone(bootstrap_peers=[4001]), "zone.bootstrap_peers[0]"),
    (with_zone(max_clock_skew_s="600"), "zone.max_clock_skew_s"),
    (with_zone(max_clock_skew_s=600.0), "zone.max_clock_skew_s"),
    (with_zone(max_clock_skew_s=True), "zone.max_clock_skew_s"),
    (with_zone(max_clock_skew_s=-1), "zone.max_clock_skew_s"),
    (with_zone(max_clock_skew_s=10**9), "zone.max_clock_skew_s"),
    ({"language": "en"}, "zone"),
    (without_zone_key("zone_id"), "zone.zone_id"),
    (without_zone_key("name"), "zone.name"),
]


@pytest.mark.parametrize(("doc", "key"), BAD_VALUES)
def test_bad_value_names_file_and_key(tmp_path: Path, doc: dict[str, Any], key: str) -> None:
    write_toml(tmp_path, doc)
    with pytest.raises(ConfigError) as excinfo:
        load_config(tmp_path)
    message = str(excinfo.value)
    assert str(config_path(tmp_path)) in message
    assert f" {key} " in message
    assert " must be " in message or "missing key" in message


def test_bad_value_message_gives_expected_form(tmp_path: Path) -> None:
    write_toml(tmp_path, with_zone(zone_id="abc"))
    with pytest.raises(ConfigError, match=r"zone\.zone_id must be a string of 8 hex digits"):
        load_config(tmp_path)


def test_invalid_toml(tmp_path: Path) -> None:
    config_path(tmp_path).write_text("language = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


def test_invalid_utf8(tmp_path: Path) -> None:
    config_path(tmp_path).write_bytes(b'language = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(tmp_path)


def test_missing_file_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(NotInitialised, match="entraide init"):
        load_config(tmp_path)


def test_error_classes() -> None:
    assert issubclass(NotInitialised, ConfigError)
    assert issubclass(ConfigError, LocalError)
    assert NotInitialised.code != ConfigError.code
    assert ConfigError.fault == "local"


# --- the dataclasses refuse bad values from code ------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"zone_id": b"\x00" * 3},
        {"zone_id": "3f2a9c01"},
        {"name": ""},
        {"bridge_keys": [b"\x00" * 31]},
        {"bootstrap_peers": ["ip4/1.2.3.4"]},
        {"max_clock_skew_s": -5},
    ],
)
def test_zone_settings_refuse_bad_values(changes: dict[str, Any]) -> None:
    args: dict[str, Any] = {"zone_id": b"\x00" * 4, "name": "Z", **changes}
    with pytest.raises(UsageError, match=next(iter(changes))):
        ZoneSettings(**args)


def test_config_refuses_unknown_language() -> None:
    with pytest.raises(UsageError, match="language"):
        Config(zone=ZoneSettings(zone_id=b"\x00" * 4, name="Z"), language="es")


# --- zone ids ---------------------------------------------------------------------------------


def test_new_zone_id() -> None:
    ids = {new_zone_id() for _ in range(20)}
    assert all(len(zone_id) == 4 for zone_id in ids)
    assert len(ids) > 1


@pytest.mark.parametrize("text", ["3f2a9c01", "3F2A9C01", " 3f2a9c01\n"])
def test_parse_zone_id(text: str) -> None:
    assert parse_zone_id(text) == bytes.fromhex("3f2a9c01")


@pytest.mark.parametrize("text", ["", "3f2a9c", "3f2a9c0102", "3f2a9c0z", "3f 2a9c01", "+3f2a9c0"])
def test_parse_zone_id_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="8 hex digits"):
        parse_zone_id(text)


# --- language default ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LC_MESSAGES": "fr_BE.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LC_ALL": "C", "LANG": "fr_FR.UTF-8"}, "en"),  # LC_ALL overrides
        ({"LC_ALL": "", "LANG": "fr_FR.UTF-8"}, "fr"),  # empty means unset
    ],
)
def test_default_language(env: dict[str, str], expected: str) -> None:
    assert default_language(env) == expected


def test_default_language_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert default_language() == "fr"
    zone = ZoneSettings(zone_id=b"\x00" * 4, name="Z")
    assert Config(zone=zone).language == "fr"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert Config(zone=zone).language == "en"


# --- home directory -----------------------------------------------------------------------------


def test_resolve_home_cli_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRAIDE_HOME", str(tmp_path / "env"))
    assert resolve_home(str(tmp_path / "cli")) == tmp_path / "cli"


def test_resolve_home_env_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRAIDE_HOME", str(tmp_path / "env"))
    assert resolve_home(None) == tmp_path / "env"


def test_resolve_home_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENTRAIDE_HOME", raising=False)
    assert resolve_home(None) == Path(platformdirs.user_data_dir("entraide"))
    monkeypatch.setenv("ENTRAIDE_HOME", "")  # empty means unset
    assert resolve_home(None) == Path(platformdirs.user_data_dir("entraide"))


def test_resolve_home_expands_user_and_is_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/camille")
    assert resolve_home("~/entraide") == Path("/home/camille/entraide")
    assert resolve_home("relative").is_absolute()


def test_resolve_home_does_not_create(tmp_path: Path) -> None:
    resolve_home(str(tmp_path / "home"))
    assert not (tmp_path / "home").exists()


def test_resolve_home_rejects_empty_cli_value() -> None:
    with pytest.raises(UsageError, match="--home"):
        resolve_home("")


def test_ensure_home_creates_private_dir(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    assert ensure_home(home) == home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    ensure_home(home)  # idempotent


def test_ensure_home_leaves_existing_dir_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)
    ensure_home(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o755


def test_ensure_home_refuses_a_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a dir")
    with pytest.raises(ConfigError, match="not a directory"):
        ensure_home(home)
