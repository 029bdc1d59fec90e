"""The bridge's settings: a ``[bridge]`` table in ``bridge.toml`` in the node's home (or in
config.toml, though ``entraide init --force`` rewrites that file without it).

Read here rather than in :mod:`node.config`, whose loader ignores tables it does not know, so
that a household node's configuration is untouched by it. Example::

    [bridge]
    poll_interval_s = 300              # how often each source is read (60 or more)
    languages = ["fr", "en"]           # which CAP <info> block to mirror (default: the node's)
    contact = "mairie@example.fr"      # added to the User-Agent (api.weather.gov asks for one)
    default_lifetime_h = 24            # for alerts that give no <expires> (1 to 336)
    folders = ["/media/usb/cap"]       # documents carried in by hand (*.xml, *.cap)
    aggregators = []                   # senders allowed to update other senders' alerts

    [bridge.area]                      # the aid zone's area: any of the three
    polygon = [[49.45, 1.07], [49.45, 1.11], [49.43, 1.11], [49.43, 1.07]]   # lat, lon
    circle = { lat = 49.443, lon = 1.085, radius_km = 3 }
    geocodes = ["NUTS3:FRD22", "EMMA_ID:FR055", "INSEE:76540"]

    [[bridge.source]]
    name = "MeteoAlarm France"
    url = "https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-france"
    hosts = ["feeds.meteoalarm.org"]   # hosts its links may point to (default: the url's)

Only ``https`` URLs on a source's allow-listed hosts are ever fetched. Tests reach a server on
127.0.0.1 through :attr:`BridgeSettings.allow_http_loopback`, which config.toml cannot set.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from node.config import config_path
from protocol.errors import InvalidMessage
from protocol.schema import check_text

from .area import ZoneArea
from .cap import Circle
from .errors import BridgeConfigError
from .safexml import Limits

__all__ = ["BridgeSettings", "FeedSource", "load_bridge_settings"]

#: The bridge's own settings file in the node's home (``entraide init --force`` rewrites
#: config.toml, and would drop a [bridge] table there).
BRIDGE_FILE = "bridge.toml"
MIN_POLL_S = 60
MAX_POLL_S = 86_400
DEFAULT_POLL_S = 300
SOURCE_NAME_BYTES = 48  # OfficialSource.source on the wire
MAX_SOURCES = 32
MAX_POLYGON_POINTS = 1000


@dataclass(frozen=True)
class FeedSource:
    """An official source read over HTTPS: an Atom or RSS index, or one CAP document."""

    name: str
    url: str
    #: Hosts (lower case, "host" or "host:port") its URL and its links may point to.
    hosts: frozenset[str]
    poll_interval_s: float | None = None


@dataclass(frozen=True)
class BridgeSettings:
    sources: tuple[FeedSource, ...] = ()
    folders: tuple[Path, ...] = ()
    area: ZoneArea = field(default_factory=ZoneArea)
    poll_interval_s: float = DEFAULT_POLL_S
    #: Preferred languages of the CAP <info> block mirrored (ISO 639-1, first wins).
    languages: tuple[str, ...] = ("fr", "en")
    #: Lifetime of an alert without <expires>, in minutes.
    default_lifetime_min: int = 24 * 60
    aggregators: frozenset[str] = frozenset()
    contact: str = ""
    #: Back-off after failures: up to this many seconds between two tries.
    max_backoff_s: float = 3600.0
    timeout_connect_s: float = 10.0
    timeout_read_s: float = 20.0
    #: The whole transfer of one document or index, redirects included.
    timeout_total_s: float = 60.0
    max_redirects: int = 3
    limits: Limits = field(default_factory=Limits)
    #: TEST ONLY (never read from config.toml): also fetch http://127.0.0.1 and http://[::1]
    #: URLs, on allow-listed hosts only.
    allow_http_loopback: bool = False


def load_bridge_settings(home: Path, *, language: str) -> BridgeSettings:
    """The ``[bridge]`` settings of ``home``: from ``bridge.toml`` if it exists, else from
    config.toml; :class:`BridgeConfigError` names the key at fault."""
    for path in (home / BRIDGE_FILE, config_path(home)):
        if path.name == BRIDGE_FILE and not path.exists():
            continue
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise BridgeConfigError.tr(
                "cannot read {path}: {reason}", path=str(path), reason=str(exc)
            ) from None
        table = doc.get("bridge")
        if isinstance(table, dict):
            return parse_bridge_table(table, path=str(path), language=language)
    raise BridgeConfigError.tr(
        "{path} has no [bridge] table: a bridge needs its official sources and the zone's "
        'area (see the README, "Town-hall bridge")',
        path=str(home / BRIDGE_FILE),
    )


def parse_bridge_table(table: dict[str, Any], *, path: str, language: str) -> BridgeSettings:
    reader = _Reader(path)
    poll = reader.number(table, "poll_interval_s", DEFAULT_POLL_S, MIN_POLL_S, MAX_POLL_S)
    languages = reader.strings(table, "languages", [language, "en"])
    lifetime_h = reader.number(table, "default_lifetime_h", 24, 1, 14 * 24)
    folders = tuple(Path(p).expanduser() for p in reader.strings(table, "folders", []))
    aggregators = frozenset(reader.strings(table, "aggregators", []))
    contact = reader.line(table, "contact", "")
    area_table = reader.table(table, "area")
    area = reader.area(area_table)
    if area.is_empty():
        raise BridgeConfigError.tr(
            "{path}: [bridge.area] is empty: give the zone's polygon, circle or geocodes",
            path=path,
        )
    raw_sources = table.get("source", [])
    if not isinstance(raw_sources, list) or len(raw_sources) > MAX_SOURCES:
        raise reader.bad("source", f"a list of at most {MAX_SOURCES} [[bridge.source]] tables")
    sources = tuple(reader.source(i, s) for i, s in enumerate(raw_sources))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise reader.bad("source", "sources with different names")
    if not sources and not folders:
        raise BridgeConfigError.tr(
            "{path}: the bridge has nothing to read: add a [[bridge.source]] or a folder",
            path=path,
        )
    return BridgeSettings(
        sources=sources,
        folders=folders,
        area=area,
        poll_interval_s=float(poll),
        languages=tuple(languages) or ("en",),
        default_lifetime_min=int(lifetime_h * 60),
        aggregators=aggregators,
        contact=contact,
    )


def url_host(url: str) -> str:
    """The "host" or "host:port" of a URL, lower case (IPv6 in brackets)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{host}:{port}" if port is not None else host


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def bad(self, key: str, expected: str, value: object = None) -> BridgeConfigError:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return BridgeConfigError.tr(
            "{path}: [bridge] {key} must be {expected}; found {value}",
            path=self.path,
            key=key,
            expected=expected,
            value=shown,
        )

    def number(
        self, table: dict[str, Any], key: str, default: float, low: float, high: float
    ) -> float:
        value = table.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.bad(key, f"a number from {low:g} to {high:g}", value)
        return float(value)

    def line(self, table: dict[str, Any], key: str, default: str, max_bytes: int = 200) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise self.bad(key, "a string", value)
        try:
            check_text(value, key, max_bytes, multiline=False)
        except InvalidMessage:
            raise self.bad(key, f"one line of at most {max_bytes} bytes", value) from None
        return value

    def strings(self, table: dict[str, Any], key: str, default: list[str]) -> list[str]:
        value = table.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.bad(key, "a list of strings", value)
        return list(value)

    def table(self, table: dict[str, Any], key: str) -> dict[str, Any]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            raise self.bad(key, "a table", value)
        return value

    def lat_lon(self, key: str, value: object) -> tuple[float, float]:
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        if not ok:
            raise self.bad(key, "[latitude, longitude] in degrees", value)
        assert isinstance(value, list)
        lat, lon = float(value[0]), float(value[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise self.bad(key, "a latitude in -90..90 and a longitude in -180..180", value)
        return lat, lon

    def area(self, table: dict[str, Any]) -> ZoneArea:
        polygons = []
        raw = table.get("polygon")
        if raw is not None:
            if not isinstance(raw, list) or not 3 <= len(raw) <= MAX_POLYGON_POINTS:
                raise self.bad("area.polygon", "a list of 3 or more [lat, lon] points", raw)
            points = [self.lat_lon("area.polygon", p) for p in raw]
            if points[0] != points[-1]:
                points.append(points[0])
            polygons.append(tuple(points))
        circles = []
        raw = table.get("circle")
        if raw is not None:
            if not isinstance(raw, dict) or set(raw) != {"lat", "lon", "radius_km"}:
                raise self.bad("area.circle", "{ lat = …, lon = …, radius_km = … }", raw)
            lat, lon = self.lat_lon("area.circle", [raw["lat"], raw["lon"]])
            radius = raw["radius_km"]
            if (
                isinstance(radius, bool)
                or not isinstance(radius, int | float)
                or not (0 < radius <= 1000)
            ):
                raise self.bad("area.circle.radius_km", "a number of km from 0 to 1000", radius)
            circles.append(Circle(lat, lon, float(radius)))
        geocodes = self.strings(table, "geocodes", [])
        return ZoneArea(tuple(polygons), tuple(circles), tuple(geocodes))

    def source(self, index: int, raw: object) -> FeedSource:
        where = f"source[{index}]"
        if not isinstance(raw, dict):
            raise self.bad(where, "a table", raw)
        name = self.line(raw, "name", "", SOURCE_NAME_BYTES)
        if not name.strip():
            raise self.bad(f"{where}.name", f"a name of 1 to {SOURCE_NAME_BYTES} bytes", name)
        url = raw.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme != "https" or not url_host(url):
            raise self.bad(f"{where}.url", "an https:// URL", url)
        hosts = self.strings(raw, "hosts", [url_host(url)])
        poll = raw.get("poll_interval_s")
        if poll is not None:
            poll = self.number(raw, "poll_interval_s", DEFAULT_POLL_S, MIN_POLL_S, MAX_POLL_S)
        return FeedSource(
            name=name,
            url=url,
            hosts=frozenset(h.lower() for h in hosts) | {url_host(url)},
            poll_interval_s=poll,
        )
