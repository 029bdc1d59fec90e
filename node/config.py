"""Node configuration: where the home directory is, and ``config.toml`` inside it.

The file looks like this (unknown keys are ignored, so newer versions can add some)::

    language = "fr"

    [zone]
    zone_id = "3f2a9c01"
    name = "Quartier Saint-Michel"
    bridge_keys = ["<64 hex digits: Ed25519 public key of an official-alert bridge>"]
    bootstrap_peers = ["/ip4/192.168.1.10/tcp/4001/p2p/12D3KooW..."]
    max_clock_skew_s = 600
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from node.fsutil import atomic_write
from protocol.errors import InvalidMessage, LocalError, UsageError
from protocol.i18n import LANGUAGES, normalise_language
from protocol.schema import check_text

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_MAX_CLOCK_SKEW_S",
    "Config",
    "ConfigError",
    "NotInitialised",
    "ZoneSettings",
    "config_path",
    "default_language",
    "ensure_home",
    "load_config",
    "new_zone_id",
    "parse_zone_id",
    "resolve_home",
    "save_config",
]

CONFIG_FILE = "config.toml"
HOME_ENV = "ENTRAIDE_HOME"
DEFAULT_MAX_CLOCK_SKEW_S = 600
ZONE_ID_SIZE = 4
BRIDGE_KEY_SIZE = 32
NAME_MAX = 64
#: Longest bootstrap peer address accepted (a multiaddr with a peer id is ~100 characters).
PEER_MAX = 300
MAX_CLOCK_SKEW_LIMIT_S = 86_400

_HEX = re.compile(r"[0-9a-fA-F]*")


class ConfigError(LocalError):
    """The configuration file or home directory is unusable; the message says how to fix it."""

    code = "config"


class NotInitialised(ConfigError):
    """This home directory has no configuration yet."""

    code = "not-initialised"


# ---------------------------------------------------------------------------------------------
# The rules for each value. A checker returns None when the value is fine, else the expected
# form, worded for the error message. They take `object`: TOML can hold any type anywhere.

_Checker = Callable[[object], str | None]


def _table_problem(value: object) -> str | None:
    return None if isinstance(value, dict) else "a table"


def _list_problem(value: object) -> str | None:
    return None if isinstance(value, list) else "a list"


def _name_problem(value: object) -> str | None:
    expected = f"a string of 1 to {NAME_MAX} characters without control characters"
    if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX or value.isspace():
        return expected
    return None if _printable_line(value) else expected


def _printable_line(value: str) -> bool:
    """The protocol's rules for one line of text: no control, bidi or invisible format
    characters, no line breaks (they would let a file spoof what a terminal shows)."""
    try:
        check_text(value, "value", len(value.encode("utf-8", "surrogatepass")), multiline=False)
    except InvalidMessage:
        return False
    return True


def _peer_problem(value: object) -> str | None:
    ok = (
        isinstance(value, str)
        and value.startswith("/")
        and value.isascii()
        and value.isprintable()
        and len(value) <= PEER_MAX
    )
    return None if ok else f'a multiaddr starting with "/" (printable ASCII, at most {PEER_MAX})'


def _skew_problem(value: object) -> str | None:
    # bool is an int in Python, but `true` is not a number of seconds
    number = value if isinstance(value, int) and not isinstance(value, bool) else -1
    if 0 <= number <= MAX_CLOCK_SKEW_LIMIT_S:
        return None
    return f"an integer number of seconds from 0 to {MAX_CLOCK_SKEW_LIMIT_S}"


def _language_problem(value: object) -> str | None:
    return None if value in LANGUAGES else " or ".join(f'"{lang}"' for lang in LANGUAGES)


def _bytes_of(size: int) -> _Checker:
    """Checker for a Python ``bytes`` value of exactly ``size`` bytes."""

    def problem(value: object) -> str | None:
        return None if isinstance(value, bytes) and len(value) == size else f"{size} bytes"

    return problem


def _hex_of(size: int) -> _Checker:
    """Checker for the TOML form of ``size`` bytes: a string of ``2 * size`` hex digits."""

    def problem(value: object) -> str | None:
        ok = isinstance(value, str) and _parse_hex(value, size) is not None
        return None if ok else f"a string of {2 * size} hex digits ({size} bytes)"

    return problem


def _check(name: str, value: object, problem: _Checker) -> None:
    expected = problem(value)
    if expected is not None:
        raise UsageError(f"{name} must be {expected}, got {_short_repr(value)}")


def _check_list(name: str, value: object, item_problem: _Checker) -> None:
    _check(name, value, _list_problem)
    assert isinstance(value, list)
    for i, item in enumerate(value):
        _check(f"{name}[{i}]", item, item_problem)


def _short_repr(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def default_language(environ: Mapping[str, str] | None = None) -> str:
    """ "fr" if the locale for messages is French, else "en" (POSIX precedence)."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:  # the first one set decides, as for gettext
            return normalise_language(value)
    return "en"


@dataclass
class ZoneSettings:
    """The neighbourhood zone this node belongs to."""

    zone_id: bytes
    name: str
    #: Public keys of the bridges, the only authors allowed to publish official alerts.
    bridge_keys: list[bytes] = field(default_factory=list)
    #: libp2p multiaddrs to dial at start-up.
    bootstrap_peers: list[str] = field(default_factory=list)
    max_clock_skew_s: int = DEFAULT_MAX_CLOCK_SKEW_S

    def __post_init__(self) -> None:
        _check("zone_id", self.zone_id, _bytes_of(ZONE_ID_SIZE))
        _check("name", self.name, _name_problem)
        _check_list("bridge_keys", self.bridge_keys, _bytes_of(BRIDGE_KEY_SIZE))
        _check_list("bootstrap_peers", self.bootstrap_peers, _peer_problem)
        _check("max_clock_skew_s", self.max_clock_skew_s, _skew_problem)


@dataclass
class Config:
    """Everything in ``config.toml``."""

    zone: ZoneSettings
    language: str = field(default_factory=default_language)

    def __post_init__(self) -> None:
        _check("language", self.language, _language_problem)


def new_zone_id() -> bytes:
    """A fresh random zone id."""
    return os.urandom(ZONE_ID_SIZE)


def parse_zone_id(text: str) -> bytes:
    """Parse a zone id typed by a user: 8 hex digits, any case, surrounding spaces ignored."""
    value = _parse_hex(text.strip(), ZONE_ID_SIZE)
    if value is None:
        raise UsageError(f"a zone id is {2 * ZONE_ID_SIZE} hex digits, like 3f2a9c01; got {text!r}")
    return value


def _parse_hex(text: str, size: int) -> bytes | None:
    if len(text) != 2 * size or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


# ---------------------------------------------------------------------------------------------
# The home directory.


def resolve_home(cli_home: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The node's home: ``--home DIR``, else ``$ENTRAIDE_HOME``, else the user data directory."""
    env = os.environ if environ is None else environ
    if cli_home is not None:
        if not cli_home:
            raise UsageError("--home needs a directory name")
        chosen = cli_home
    else:
        chosen = env.get(HOME_ENV, "") or platformdirs.user_data_dir("entraide")
    try:
        return Path(chosen).expanduser().absolute()
    except RuntimeError:  # "~nosuchuser/x"
        raise UsageError(
            f"{chosen}: no such user; give the node directory as a full path"
        ) from None


def ensure_home(home: Path) -> Path:
    """Create ``home`` (mode 0700, private to this user) if it does not exist yet."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError.tr(
            "{home} exists and is not a directory; choose another home", home=str(home)
        ) from None
    except OSError as exc:
        raise ConfigError.tr(
            "cannot create home directory {home}: {reason}", home=str(home), reason=exc.strerror
        ) from exc
    return home


def config_path(home: Path) -> Path:
    return home / CONFIG_FILE


# ---------------------------------------------------------------------------------------------
# Reading and writing config.toml.


def load_config(home: Path) -> Config:
    """Read ``config.toml`` from ``home``; raise ``ConfigError`` naming any bad key."""
    path = config_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotInitialised.tr(
            "no configuration in {home} (missing {path}); run `entraide init` first",
            home=str(home),
            path=str(path),
        ) from None
    except OSError as exc:
        raise ConfigError.tr(
            "cannot read {path}: {reason}", path=str(path), reason=exc.strerror
        ) from exc
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError.tr("{path} is not valid UTF-8 text", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.tr(
            "{path} is not valid TOML: {reason}", path=str(path), reason=str(exc)
        ) from None
    return _config_from_toml(path, doc)


def save_config(home: Path, config: Config) -> None:
    """Write ``config`` atomically to ``config.toml`` in ``home``."""
    zone = config.zone
    doc = {
        "language": config.language,
        "zone": {
            "zone_id": zone.zone_id.hex(),
            "name": zone.name,
            "bridge_keys": [key.hex() for key in zone.bridge_keys],
            "bootstrap_peers": list(zone.bootstrap_peers),
            "max_clock_skew_s": zone.max_clock_skew_s,
        },
    }
    data = "# entraide node configuration\n\n" + tomli_w.dumps(doc)
    path = config_path(home)
    try:
        atomic_write(path, data.encode("utf-8"), 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc


def _config_from_toml(path: Path, doc: dict[str, Any]) -> Config:
    zone = _field(path, doc, "", "zone", _table_problem)
    return Config(
        zone=ZoneSettings(
            zone_id=bytes.fromhex(_field(path, zone, "zone.", "zone_id", _hex_of(ZONE_ID_SIZE))),
            name=_field(path, zone, "zone.", "name", _name_problem),
            bridge_keys=[
                bytes.fromhex(key)
                for key in _items(path, zone, "zone.", "bridge_keys", _hex_of(BRIDGE_KEY_SIZE))
            ],
            bootstrap_peers=_items(path, zone, "zone.", "bootstrap_peers", _peer_problem),
            max_clock_skew_s=_field(
                path, zone, "zone.", "max_clock_skew_s", _skew_problem, DEFAULT_MAX_CLOCK_SKEW_S
            ),
        ),
        language=_field(path, doc, "", "language", _language_problem, default_language()),
    )


_REQUIRED: Any = object()


def _field(
    path: Path,
    table: dict[str, Any],
    prefix: str,
    key: str,
    problem: _Checker,
    default: Any = _REQUIRED,
) -> Any:
    """``table[key]`` checked by ``problem``; errors name the file and the dotted key."""
    if key not in table:
        if default is _REQUIRED:  # every checker rejects None, answering with the expected form
            raise ConfigError.tr(
                "{path}: missing key {key} ({expected})",
                path=str(path),
                key=prefix + key,
                expected=problem(None),
            )
        return default
    value = table[key]
    expected = problem(value)
    if expected is not None:
        raise _bad_value(path, prefix + key, expected, value)
    return value


def _items(
    path: Path, table: dict[str, Any], prefix: str, key: str, item_problem: _Checker
) -> list[Any]:
    """The optional list ``table[key]``, each item checked by ``item_problem``."""
    items = _field(path, table, prefix, key, _list_problem, [])
    for i, item in enumerate(items):
        expected = item_problem(item)
        if expected is not None:
            raise _bad_value(path, f"{prefix}{key}[{i}]", expected, item)
    return list(items)


def _bad_value(path: Path, where: str, expected: str, value: object) -> ConfigError:
    return ConfigError.tr(
        "{path}: {key} must be {expected}; found {value}",
        path=str(path),
        key=where,
        expected=expected,
        value=_short_repr(value),
    )
