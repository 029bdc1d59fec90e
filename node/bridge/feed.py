"""Feed indexes: the Atom or RSS documents that list CAP alerts by link.

An index entry names a CAP document by a link: in Atom, a ``<link>`` of type
``application/cap+xml`` (MeteoAlarm, Alert Hub), else the entry's alternate link; in RSS, an
``<enclosure>`` of that type, else the item's ``<link>``. Entries are told apart by their id
(Atom ``<id>``, RSS ``<guid>``, else the link) and their update time, so the bridge fetches
only what is new: a CAP document, once issued, never changes. Links are returned as written;
the fetcher decides which it follows (:class:`node.bridge.fetch.LinkPolicy`).

A source URL may also point straight at one CAP document: :func:`parse_index` then says so
(``kind == "cap"``) and the caller reads it as a document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from .cap import CAP_NAMESPACES, Flag
from .errors import CapRejected, Reason
from .safexml import Limits, local_name, namespace, parse_xml

__all__ = ["Index", "IndexEntry", "parse_index"]

ATOM = "http://www.w3.org/2005/Atom"
CAP_TYPE = "application/cap+xml"


@dataclass(frozen=True)
class IndexEntry:
    entry_id: str
    updated: str
    #: The CAP document's URL as written (maybe relative), or None when the entry has none.
    link: str | None
    title: str = ""


@dataclass(frozen=True)
class Index:
    kind: str  # "atom", "rss" or "cap" (the URL is one CAP document, not an index)
    entries: tuple[IndexEntry, ...]
    flags: tuple[Flag, ...] = ()


def parse_index(data: bytes, limits: Limits | None = None) -> Index:
    limits = limits or Limits()
    parsed = parse_xml(data, limits, max_bytes=limits.max_index_bytes, what="feed index")
    root = parsed.root
    ns, name = namespace(root.tag), local_name(root.tag)
    flags = list(parsed.flags)
    if name == "alert" and ns in CAP_NAMESPACES:
        return Index("cap", (), tuple(flags))
    if ns == ATOM and name == "feed":
        items = [e for e in root if e.tag == f"{{{ATOM}}}entry"]
        read: Callable[[Element], IndexEntry] = _atom_entry
        kind = "atom"
    elif not ns and name == "rss":
        channel = next((c for c in root if c.tag == "channel"), None)
        items = [] if channel is None else [i for i in channel if i.tag == "item"]
        read = _rss_item
        kind = "rss"
    else:
        raise CapRejected(
            Reason.NOT_A_FEED, f"the index is a <{name}> ({ns or 'no namespace'}), not Atom or RSS"
        )
    if len(items) > limits.max_entries:
        flags.append(
            (Reason.TOO_LARGE, f"{len(items)} entries: only the first {limits.max_entries} read")
        )
        items = items[: limits.max_entries]
    entries = []
    for item in items:
        entry = read(item)
        if entry.link is None:
            flags.append((Reason.SKIPPED_LINK, f"entry {entry.entry_id!r} links to no document"))
        entries.append(entry)
    return Index(kind, tuple(entries), tuple(flags))


def _text(elem: Element | None) -> str:
    return "" if elem is None else (elem.text or "").strip()


def _atom_entry(entry: Element) -> IndexEntry:
    def child(name: str) -> Element | None:
        return entry.find(f"{{{ATOM}}}{name}")

    links = entry.findall(f"{{{ATOM}}}link")
    cap = [ln for ln in links if ln.get("type", "").strip().lower() == CAP_TYPE]
    alternate = [ln for ln in links if ln.get("rel", "alternate").strip() == "alternate"]
    chosen = (cap or alternate)[:1]
    link = (chosen[0].get("href") or "").strip() or None if chosen else None
    entry_id = _text(child("id")) or link or ""
    return IndexEntry(entry_id, _text(child("updated")), link, _text(child("title")))


def _rss_item(item: Element) -> IndexEntry:
    enclosures = [
        e for e in item.findall("enclosure") if e.get("type", "").strip().lower() == CAP_TYPE
    ]
    link = (enclosures[0].get("url") or "").strip() if enclosures else _text(item.find("link"))
    entry_id = _text(item.find("guid")) or link
    return IndexEntry(
        entry_id, _text(item.find("pubDate")), link or None, _text(item.find("title"))
    )
