"""The reflex sheet: a printed page for when every network is down.

One A4 page (or two) to pin on a wall or keep in a drawer: the reflexes to have, the
emergency numbers, the zone's phone tree (who calls whom, in which order), its resource
points and the fingerprints of the keys that sign its official alerts.

Phone numbers never travel in the mesh: the tree comes from a CSV file the coordinator keeps
(``--contacts``: columns ``name``, ``phone``, ``role`` = coordinator, relay or household,
optional ``place``). Coordinators call the relays, each relay calls its households, each in
the order given; without a file the tree is printed blank, to fill in by hand.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from protocol import state
from protocol.errors import UsageError
from protocol.fingerprint import fingerprint
from protocol.i18n import label, tr
from protocol.schema import Point

from .formats import local_time
from .pdf import PdfPage

__all__ = ["Contact", "ReflexSheet", "parse_contacts", "phone_tree", "reflex_pdf"]

MAX_CONTACTS = 500
MAX_CELL = 100
#: Households per relay on a blank tree.
BLANK_BRANCH = 6
ROLES = ("coordinator", "relay", "household")


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    role: str = "household"
    place: str = ""


@dataclass(frozen=True)
class Branch:
    caller: Contact | None  # None on a blank tree
    calls: tuple[Contact, ...]


@dataclass(frozen=True)
class ResourceLine:
    name: str
    type: str
    hours: str
    point: Point | None
    open: bool


@dataclass
class ReflexSheet:
    zone_name: str
    zone_id: str
    now: int
    lang: str
    signer_fingerprint: str
    bridge_keys: tuple[bytes, ...] = ()
    contacts: tuple[Contact, ...] = ()
    resources: list[ResourceLine] = field(default_factory=list)


def parse_contacts(data: bytes, lang: str) -> tuple[Contact, ...]:
    """Contacts from a CSV file (UTF-8, comma or semicolon separated, with a header row)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {(f or "").strip().casefold() for f in reader.fieldnames or ()}
    if not {"name", "phone"} <= fields:
        raise UsageError(
            tr("the contacts file needs the columns name and phone (and role, place)", lang)
        )
    contacts = []
    for row in reader:
        cells = {(k or "").strip().casefold(): _clean(v) for k, v in row.items() if k}
        if not cells.get("name") and not cells.get("phone"):
            continue
        role = (cells.get("role") or "household").casefold()
        if role not in ROLES:
            role = "household"
        contacts.append(
            Contact(cells.get("name", ""), cells.get("phone", ""), role, cells.get("place", ""))
        )
        if len(contacts) > MAX_CONTACTS:
            raise UsageError(
                tr("the contacts file has more than {max} rows", lang, max=MAX_CONTACTS)
            )
    return tuple(contacts)


def _clean(value: object) -> str:
    text = value if isinstance(value, str) else ""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_CELL]


def phone_tree(contacts: Sequence[Contact]) -> list[Branch]:
    """Coordinators call the relays, relays call the households, spread in the given order."""
    coordinators = [c for c in contacts if c.role == "coordinator"]
    relays = [c for c in contacts if c.role == "relay"]
    households = [c for c in contacts if c.role == "household"]
    branches: list[Branch] = []
    if coordinators and relays:
        shares: list[list[Contact]] = [[] for _ in coordinators]
        for i, relay in enumerate(relays):
            shares[i % len(coordinators)].append(relay)
        branches += [Branch(c, tuple(s)) for c, s in zip(coordinators, shares, strict=True)]
    callers = relays or coordinators
    if callers:
        shares = [[] for _ in callers]
        for i, household in enumerate(households):
            shares[i % len(callers)].append(household)
        branches += [Branch(c, tuple(s)) for c, s in zip(callers, shares, strict=True) if s]
    elif households:
        branches.append(Branch(None, tuple(households)))
    return branches


def _reflexes(lang: str) -> list[str]:
    return [
        tr(
            "Siren or danger: go indoors at once, close doors and windows, stop ventilation "
            "and heating.",
            lang,
        ),
        tr(
            "Listen to the radio (batteries or car): France Bleu, France Inter. Follow the "
            "authorities' instructions.",
            lang,
        ),
        tr("Do not fetch your children from school: the school looks after them.", lang),
        tr(
            "Keep the phone lines free: call 112 (or 15, 17, 18; 114 by text) only for a life "
            "at risk.",
            lang,
        ),
        tr(
            "Call the households of your branch of the phone tree, in order; write down who "
            "did not answer and tell whoever calls you.",
            lang,
        ),
        tr(
            "If your home is not safe, go to a resource point below; leave a note on your door "
            "saying where you went.",
            lang,
        ),
        tr(
            "When a node or a radio works again, post a check-in for each household you reached.",
            lang,
        ),
    ]


def reflex_pdf(sheet: ReflexSheet) -> bytes:
    lang = sheet.lang
    title = tr("Reflex sheet: when every network is down", lang)
    pdf = PdfPage(f"{sheet.zone_name} - {title} - {sheet.signer_fingerprint}")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 16)
    pdf.multi_cell(0, 8, pdf.text_of(title), new_x="LMARGIN", new_y="NEXT")
    zone = f"{sheet.zone_name} ({sheet.zone_id}) - {tr('printed', lang)} {local_time(sheet.now)}"
    pdf.paragraph(tr("{prefix}: {detail}", lang, prefix=tr("Zone", lang), detail=zone), size=10)
    pdf.heading(tr("Reflexes", lang))
    for number, text in enumerate(_reflexes(lang), start=1):
        pdf.paragraph(f"{number}. {text}", size=10)
    pdf.heading(tr("Emergency numbers", lang))
    pdf.grid(
        [tr("number", lang), tr("for", lang)],
        [
            ["112", tr("any emergency (Europe)", lang)],
            ["15", tr("medical emergency (SAMU)", lang)],
            ["17", tr("police", lang)],
            ["18", tr("fire brigade", lang)],
            ["114", tr("emergency by text message (deaf or unable to speak)", lang)],
        ],
        (20, 80),
    )
    pdf.heading(tr("Phone tree", lang))
    branches = phone_tree(sheet.contacts)
    rows: list[list[str]] = []
    if branches:
        for branch in branches:
            caller = (
                "" if branch.caller is None else f"{branch.caller.name} ({branch.caller.phone})"
            )
            for order, callee in enumerate(branch.calls, start=1):
                rows.append(
                    [
                        caller if order == 1 else "",
                        str(order),
                        callee.name,
                        callee.phone,
                        callee.place,
                        "",
                    ]
                )
    else:
        pdf.paragraph(
            tr("No contacts file was given: fill in the tree by hand, one line per call.", lang),
            size=9,
        )
        rows = [["", str(i % BLANK_BRANCH + 1), "", "", "", ""] for i in range(3 * BLANK_BRANCH)]
    pdf.grid(
        [
            tr("who calls", lang),
            "#",
            tr("calls", lang),
            tr("phone", lang),
            tr("place", lang),
            tr("reached?", lang),
        ],
        rows,
        (24, 5, 22, 17, 20, 12),
    )
    pdf.heading(tr("Resource points", lang))
    if sheet.resources:
        pdf.grid(
            [tr("name", lang), tr("type", lang), tr("hours", lang), tr("position", lang)],
            [
                [
                    r.name + ("" if r.open else f" ({tr('closed', lang)})"),
                    r.type,
                    r.hours,
                    "" if r.point is None else f"{r.point.lat:.5f}, {r.point.lon:.5f}",
                ]
                for r in sheet.resources
            ],
            (34, 24, 18, 24),
        )
    else:
        pdf.paragraph(tr("None known yet: write the meeting point here.", lang), size=9)
    pdf.heading(tr("Official alerts are signed by", lang))
    if sheet.bridge_keys:
        for key in sheet.bridge_keys:
            pdf.paragraph(f"{fingerprint(key)}   ({key.hex()[:16]}…)", size=9)
    else:
        pdf.paragraph(tr("No bridge key is configured for this zone.", lang), size=9)
    signer = tr(
        "{prefix}: {detail}",
        lang,
        prefix=tr("Signer fingerprint", lang),
        detail=sheet.signer_fingerprint,
    )
    pdf.paragraph(signer, size=10, style="B")
    return bytes(pdf.output())


def resource_lines(views: Sequence[state.ResourceView], lang: str) -> list[ResourceLine]:
    """Resource points of a board as sheet lines."""
    lines = []
    for view in views:
        resource = view.resource
        lines.append(
            ResourceLine(
                resource.name,
                label(resource.type, lang),
                resource.hours,
                resource.point,
                resource.open,
            )
        )
    return lines


def load_contacts(path: Path, lang: str) -> tuple[Contact, ...]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(
            tr("cannot read {path}: {reason}", lang, path=str(path), reason=str(exc.strerror))
        ) from None
    return parse_contacts(data, lang)
