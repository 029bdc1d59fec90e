"""Reports for the outside world: ``entraide report``.

- :mod:`.situation`: what the zone knows now (open requests, silent households, vulnerable
  neighbours not visited, incidents, resource points), derived from the node's messages;
- :mod:`.formats`: as GeoJSON, CSV and a printable HTML page;
- :mod:`.pdf`: as a printable PDF page (fpdf2), and the page layout the reflex sheet uses;
- :mod:`.reflex`: the reflex sheet and phone tree, for when every network is down;
- :mod:`.sign`: a manifest of the files, signed with the node's key, and its check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ..fsutil import atomic_write
from ..identity import Identity
from .formats import as_csv, as_geojson, as_html
from .pdf import situation_pdf
from .reflex import ReflexSheet, reflex_pdf
from .sign import MANIFEST, SIGNATURE, BadReportSignature, Verified, sign_files, verify_report
from .situation import Situation, build_situation

__all__ = [
    "FORMATS",
    "MANIFEST",
    "SIGNATURE",
    "BadReportSignature",
    "ReflexSheet",
    "Situation",
    "Verified",
    "build_situation",
    "verify_report",
    "write_reflex_sheet",
    "write_situation_report",
]

FORMATS = ("geojson", "csv", "html", "pdf")


def _stem(kind: str, now: int) -> str:
    return f"{kind}-{datetime.fromtimestamp(now, UTC).strftime('%Y%m%d-%H%M%SZ')}"


def write_situation_report(
    folder: Path, situation: Situation, identity: Identity, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write the report in ``formats`` into ``folder``, then its signed manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = _stem("situation", situation.now)
    contents = {
        "geojson": lambda: as_geojson(situation).encode("utf-8"),
        "csv": lambda: as_csv(situation).encode("utf-8"),
        "html": lambda: as_html(situation).encode("utf-8"),
        "pdf": lambda: situation_pdf(situation),
    }
    written = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        atomic_write(path, contents[fmt](), 0o644)
        written.append(path)
    sign_files(folder, [p.name for p in written], identity)
    return [*written, folder / MANIFEST, folder / SIGNATURE]


def write_reflex_sheet(folder: Path, sheet: ReflexSheet, identity: Identity) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_stem('reflex-sheet', sheet.now)}.pdf"
    atomic_write(path, reflex_pdf(sheet), 0o644)
    sign_files(folder, [path.name], identity)
    return [path, folder / MANIFEST, folder / SIGNATURE]
