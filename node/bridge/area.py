"""Where an alert applies, and whether that touches the aid zone.

The zone's area is a polygon, a circle (centre and radius), geocodes, or several of them
(``[bridge.area]`` in config.toml). An alert's area is the union of its ``<area>`` blocks:
polygons, circles and geocodes. Geocodes become shapes through the shipped region polygons
(``regions_fr.json``: the MeteoAlarm warning regions of France by EMMA_ID, and the NUTS3
codes Meteo-France CAP uses, mapped to them). Geometry is shapely's (GEOS): invalid shapes a
feed sends (a polygon that crosses itself) are repaired before they are compared.

An alert **touches** the zone when one of its geocodes is one of the zone's, or when its
shape intersects the zone's. When neither the alert nor the zone gives anything comparable,
the answer is "unknown" (the bridge then does not mirror the alert).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import Point, Polygon, shape

from .cap import CapArea, Circle, Flag
from .errors import Reason

__all__ = ["AreaMatch", "Regions", "ZoneArea", "alert_shape", "circle_shape"]

REGIONS_FILE = "regions_fr.json"
#: Kilometres per degree of latitude (and of longitude at the equator).
KM_PER_DEGREE = 111.32
CIRCLE_SEGMENTS = 64
#: Geocode names that name a shipped region (EMMA_ID directly, NUTS3 through the map).
_EMMA_NAMES = frozenset({"EMMA_ID", "EMMA"})
_NUTS_NAMES = frozenset({"NUTS3", "NUTS"})


class AreaMatch(enum.Enum):
    TOUCHES = "touches"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"  # nothing in the alert can be compared with the zone


class Regions:
    """Shapes of the regions a geocode can name (the shipped ones: France's)."""

    def __init__(
        self, shapes: Mapping[str, Any], names: Mapping[str, str], nuts3: Mapping[str, str]
    ) -> None:
        self._shapes = dict(shapes)
        self._names = dict(names)
        self._nuts3 = dict(nuts3)

    @classmethod
    def shipped(cls) -> Regions:
        text = resources.files(__package__).joinpath(REGIONS_FILE).read_text(encoding="utf-8")
        doc = json.loads(text)
        shapes = {}
        names = {}
        for code, region in doc["regions"].items():
            shapes[code] = shapely.make_valid(shape(region["geometry"]))
            names[code] = region["name"]
        return cls(shapes, names, doc["nuts3"])

    @classmethod
    def empty(cls) -> Regions:
        return cls({}, {}, {})

    def region_of(self, value_name: str, value: str) -> str | None:
        """The EMMA_ID region a geocode names, if it names a known one."""
        name = value_name.strip().upper()
        code = value.strip().upper()
        if name in _NUTS_NAMES:
            code = self._nuts3.get(code, "")
        elif name not in _EMMA_NAMES:
            return None
        return code if code in self._shapes else None

    def names_region(self, value_name: str) -> bool:
        """Whether geocodes of this kind should name a shipped region."""
        return value_name.strip().upper() in _EMMA_NAMES | _NUTS_NAMES

    def shape_of(self, code: str) -> Any:
        return self._shapes[code]

    def name_of(self, code: str) -> str:
        return self._names.get(code, code)


def circle_shape(circle: Circle) -> Any:
    """A circle on the ground as a polygon in degrees (lon, lat); radius 0 is a point."""
    if circle.radius_km <= 0:
        return Point(circle.lon, circle.lat)
    dlat = circle.radius_km / KM_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(circle.lat)), 0.01)
    ring = [
        (
            circle.lon + dlon * math.cos(2 * math.pi * i / CIRCLE_SEGMENTS),
            max(-90.0, min(90.0, circle.lat + dlat * math.sin(2 * math.pi * i / CIRCLE_SEGMENTS))),
        )
        for i in range(CIRCLE_SEGMENTS)
    ]
    return Polygon(ring)


def _polygon_shape(points: Iterable[tuple[float, float]]) -> Any:
    return shapely.make_valid(Polygon([(lon, lat) for lat, lon in points]))


def alert_shape(areas: Iterable[CapArea], regions: Regions) -> tuple[Any, list[Flag]]:
    """The union of what ``areas`` cover (None if nothing has a shape), and flags."""
    parts = []
    flags: list[Flag] = []
    for area in areas:
        parts += [_polygon_shape(p) for p in area.polygons]
        parts += [circle_shape(c) for c in area.circles]
        for value_name, value in area.geocodes:
            code = regions.region_of(value_name, value)
            if code is not None:
                parts.append(regions.shape_of(code))
            elif regions.names_region(value_name):
                flags.append(
                    (Reason.UNKNOWN_GEOCODE, f"{value_name} {value!r} is not a shipped region")
                )
    if not parts:
        return None, flags
    return shapely.union_all(parts), flags


def _geocode_key(value_name: str, value: str) -> tuple[str, str]:
    return (value_name.strip().upper(), value.strip().upper())


@dataclass(frozen=True)
class ZoneArea:
    """The aid zone's area, as configured: any of a polygon, a circle and geocodes."""

    #: Polygons as (lat, lon) pairs.
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    #: "NAME:VALUE" (e.g. "NUTS3:FRD22", "EMMA_ID:FR055", "INSEE:76540") or a bare VALUE
    #: that matches a geocode of any name.
    geocodes: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.polygons or self.circles or self.geocodes)

    def matcher(self, regions: Regions) -> AreaMatcher:
        return AreaMatcher(self, regions)


class AreaMatcher:
    """Answers "does this alert touch the zone?" for one zone area."""

    def __init__(self, zone: ZoneArea, regions: Regions) -> None:
        self.regions = regions
        self._named: set[tuple[str, str]] = set()
        self._bare: set[str] = set()
        parts = [_polygon_shape(p) for p in zone.polygons]
        parts += [circle_shape(c) for c in zone.circles]
        for code in zone.geocodes:
            name, sep, value = code.partition(":")
            if sep:
                self._named.add(_geocode_key(name, value))
                region = regions.region_of(name, value)
                if region is not None:
                    parts.append(regions.shape_of(region))
            else:
                self._bare.add(code.strip().upper())
        self.shape = shapely.union_all(parts) if parts else None
        if self.shape is not None:
            shapely.prepare(self.shape)

    def match(self, areas: Iterable[CapArea]) -> tuple[AreaMatch, list[Flag]]:
        areas = list(areas)
        for area in areas:
            for value_name, value in area.geocodes:
                key = _geocode_key(value_name, value)
                if key in self._named or key[1] in self._bare:
                    return AreaMatch.TOUCHES, []
        found, flags = alert_shape(areas, self.regions)
        if found is None or self.shape is None:
            return AreaMatch.UNKNOWN, flags
        if self.shape.intersects(found):
            return AreaMatch.TOUCHES, flags
        return AreaMatch.OUTSIDE, flags
