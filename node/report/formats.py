"""The situation report as GeoJSON, CSV and a printable HTML page.

- **GeoJSON** (RFC 7946): one Feature per item, geometry a Point ``[lon, lat]`` when the item
  has a precise position, else ``null`` (allowed by the RFC); the report's header is in the
  collection's ``properties`` (a foreign member RFC 7946 allows).
- **CSV**: one row per item, the same columns for every section, UTF-8 with a byte order mark
  (so that spreadsheet programs read the accents right).
- **HTML**: one self-contained page for a printer or a browser: no script, no external file,
  every text escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from protocol.i18n import tr

from .situation import Item, Situation

__all__ = ["SECTIONS", "as_csv", "as_geojson", "as_html", "local_time", "section_titles"]

SECTIONS = ("alert", "request", "silent", "vulnerable", "incident", "resource")
CSV_COLUMNS = (
    "section", "id", "created", "title", "level", "status", "people", "vulnerable", "place",
    "lat", "lon", "official", "exercise", "detail",
)  # fmt: skip


def local_time(ts: int) -> str:
    """A time as the report prints it: local time with its UTC offset."""
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M %z")


def section_titles(lang: str) -> dict[str, str]:
    return {
        "alert": tr("Active alerts", lang),
        "request": tr("Help requests not yet resolved (most urgent first)", lang),
        "silent": tr("Households not heard from since the alert", lang),
        "vulnerable": tr("Vulnerable neighbours not yet visited", lang),
        "incident": tr("Incidents", lang),
        "resource": tr("Resource points", lang),
    }


def _section_items(situation: Situation) -> dict[str, list[Item]]:
    return {
        "alert": situation.alerts,
        "request": situation.requests,
        "silent": situation.silent,
        "vulnerable": situation.vulnerable,
        "incident": situation.incidents,
        "resource": situation.resources,
    }


def header(situation: Situation) -> dict[str, Any]:
    return {
        "zone": situation.zone_name,
        "zone_id": situation.zone_id,
        "generated": situation.now,
        "since": situation.since,
        "signer": situation.signer_key.hex(),
        "signer_fingerprint": situation.signer_fingerprint,
        "roster_readable": situation.roster_readable,
        "checkins": dict(situation.checkins),
    }


def as_geojson(situation: Situation) -> str:
    features = []
    for item in situation.items():
        geometry = (
            None
            if item.point is None
            else {"type": "Point", "coordinates": [item.point.lon, item.point.lat]}
        )
        features.append(
            {
                "type": "Feature",
                "id": f"{item.section}:{item.id}",
                "geometry": geometry,
                "properties": {
                    "section": item.section,
                    "message": item.id,
                    "created": item.created,
                    "title": item.title,
                    "detail": item.detail,
                    "place": item.place,
                    "status": item.status,
                    "level": item.level,
                    "people": item.people,
                    "vulnerable": item.vulnerable,
                    "official": item.official,
                    "exercise": item.exercise,
                },
            }
        )
    collection = {
        "type": "FeatureCollection",
        "properties": header(situation),
        "features": features,
    }
    return json.dumps(collection, ensure_ascii=False, indent=1) + "\n"


def as_csv(situation: Situation) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in situation.items():
        writer.writerow(
            [
                item.section,
                item.id,
                local_time(item.created) if item.created else "",
                _cell(item.title),
                item.level,
                item.status,
                item.people or "",
                "yes" if item.vulnerable else "",
                _cell(item.place),
                "" if item.point is None else f"{item.point.lat:.5f}",
                "" if item.point is None else f"{item.point.lon:.5f}",
                "yes" if item.official else "",
                "yes" if item.exercise else "",
                _cell(item.detail),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """A text cell that no spreadsheet will run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #000; }
h1 { font-size: 17pt; margin: 0 0 4pt 0; }
h2 { font-size: 12.5pt; margin: 14pt 0 4pt 0; border-bottom: 1.5pt solid #000; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
th, td { border: 0.6pt solid #555; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #e6e6e6; }
tr { page-break-inside: avoid; }
.meta td { border: none; padding: 1pt 6pt 1pt 0; }
.flag { font-weight: bold; }
.none { font-style: italic; }
.fingerprint { font-family: "DejaVu Sans Mono", monospace; font-size: 12pt; }
"""


def as_html(situation: Situation) -> str:
    lang = situation.lang
    e = html.escape

    def t(msgid: str, **params: object) -> str:
        return tr(msgid, lang, **params)

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8">',
        f"<title>{e(t('Situation report'))} - {e(situation.zone_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(t('Situation report'))} - {e(situation.zone_name)}</h1>",
        '<table class="meta">',
    ]
    for key, value in meta_lines(situation):
        parts.append(f"<tr><td>{e(key)}</td><td>{e(value)}</td></tr>")
    parts.append(
        f"<tr><td>{e(t('Signer fingerprint'))}</td>"
        f'<td class="fingerprint">{e(situation.signer_fingerprint)}</td></tr></table>'
    )
    titles = section_titles(lang)
    for section, items in _section_items(situation).items():
        parts.append(f"<h2>{e(titles[section])} ({len(items)})</h2>")
        if section == "vulnerable" and not situation.roster_readable:
            parts.append(f'<p class="none">{e(roster_note(lang))}</p>')
            continue
        if not items:
            parts.append(f'<p class="none">{e(t("None."))}</p>')
            continue
        columns = table_columns(section, lang)
        parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c, _ in columns) + "</tr>")
        for item in items:
            parts.append(
                "<tr>" + "".join(f"<td>{e(cell(item))}</td>" for _, cell in columns) + "</tr>"
            )
        parts.append("</table>")
    if situation.checkins:
        parts.append(f"<h2>{e(t('Latest news of each household'))}</h2><table>")
        for status, count in sorted(situation.checkins.items()):
            parts.append(f"<tr><td>{e(status)}</td><td>{count}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def meta_lines(situation: Situation) -> list[tuple[str, str]]:
    lang = situation.lang
    since = (
        tr("no alert in progress", lang) if situation.since is None else local_time(situation.since)
    )
    return [
        (tr("Zone", lang), f"{situation.zone_name} ({situation.zone_id})"),
        (tr("Generated", lang), local_time(situation.now)),
        (tr("Counted since", lang), since),
        (tr("Signed by (key)", lang), situation.signer_key.hex()),
    ]


def roster_note(lang: str) -> str:
    return tr(
        "Only a relay's node can read the check-on-me roster: ask a relay of the zone for "
        "this list.",
        lang,
    )


Column = tuple[str, Callable[[Item], str]]


def _position(item: Item) -> str:
    return "" if item.point is None else f"{item.point.lat:.5f}, {item.point.lon:.5f}"


def _when(item: Item) -> str:
    return local_time(item.created)[5:16] if item.created else ""


def table_columns(section: str, lang: str) -> Sequence[Column]:
    """The columns printed for ``section`` (the same in HTML and PDF)."""

    def t(msgid: str) -> str:
        return tr(msgid, lang)

    def marks(item: Item) -> str:
        flags = []
        if item.official:
            flags.append(t("OFFICIAL"))
        if item.exercise:
            flags.append(t("EXERCISE"))
        if item.status:
            flags.append(item.status)
        return " ".join(flags)

    message_id: Column = (t("id"), lambda i: i.id[:8])
    if section == "alert":
        return [
            message_id,
            (t("severity"), lambda i: i.level),
            (t("source"), marks),
            (t("headline"), lambda i: i.title),
            (t("area"), lambda i: i.place),
            (t("instruction"), lambda i: i.detail),
        ]
    if section == "request":
        return [
            message_id,
            (t("urgency"), lambda i: i.level),
            (t("need"), lambda i: i.title + (" ⚠" if i.vulnerable else "")),
            (t("people"), lambda i: str(i.people)),
            (t("status"), lambda i: i.status),
            (t("place"), lambda i: " ".join(p for p in (i.place, _position(i)) if p)),
            (t("since"), _when),
            (t("details"), lambda i: i.detail),
        ]
    if section in ("silent", "vulnerable"):
        return [
            (t("household"), lambda i: i.title),
            (t("latest news"), lambda i: i.status),
            (t("place"), lambda i: i.place),
            (t("details"), lambda i: i.detail),
        ]
    if section == "incident":
        return [
            message_id,
            (t("type"), lambda i: i.title),
            (t("severity"), lambda i: i.level),
            (t("place"), lambda i: " ".join(p for p in (i.place, _position(i)) if p)),
            (t("since"), _when),
            (t("details"), lambda i: i.detail),
        ]
    return [
        message_id,
        (t("type"), lambda i: i.level),
        (t("name"), lambda i: i.title),
        (t("status"), lambda i: i.status),
        (t("hours"), lambda i: i.place),
        (t("position"), _position),
        (t("details"), lambda i: i.detail),
    ]
