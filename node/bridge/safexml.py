"""Untrusted XML, parsed safely: the one door through which feed bytes become a tree.

Every official document (a CAP alert, an Atom or RSS index) is read with :func:`parse_xml`:

- sizes are capped **before** parsing (the document) and right after (each element's text,
  the depth, the number of elements), so a hostile document costs bounded time and memory;
- any DOCTYPE is refused (``defusedxml`` with ``forbid_dtd``): CAP never needs one, and a DTD
  is how XXE (a local file or a URL pulled into a field) and entity bombs (billion laughs)
  get in. No entity is expanded, nothing is fetched, XInclude and XSLT are never applied;
- an HTML page (a server's error page, a captive portal) is named as such;
- a document that declares UTF-8 (or nothing) but is Windows-1252 is read as Windows-1252 and
  flagged (real feeds mislabel their encoding; that is not a safety matter).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as DET

from .errors import CapRejected, Reason

__all__ = ["Limits", "ParsedXml", "local_name", "namespace", "parse_xml"]


@dataclass(frozen=True)
class Limits:
    """Caps on what the bridge reads from a source."""

    #: A CAP document (the largest real ones are ~20 KB; NAAD's with two signatures ~40 KB).
    max_document_bytes: int = 1 * 2**20
    #: An index (MeteoAlarm's whole-country Atom feed is a few hundred KB).
    max_index_bytes: int = 4 * 2**20
    #: The text of one element, or one attribute value.
    max_field_bytes: int = 64 * 2**10
    max_depth: int = 32
    max_elements: int = 50_000
    #: Entries read from one index; the rest are ignored (and counted).
    max_entries: int = 500
    #: CAP blocks and coordinates.
    max_infos: int = 16
    max_areas: int = 64
    max_polygon_points: int = 10_000
    max_total_points: int = 100_000
    max_references: int = 64


@dataclass(frozen=True)
class ParsedXml:
    root: ET.Element
    #: Things repaired while reading (a mislabelled encoding).
    flags: tuple[tuple[Reason, str], ...] = ()


_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def namespace(tag: str) -> str:
    """The namespace of an ElementTree tag (``{ns}local``), or ""."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(data: bytes, limits: Limits, *, max_bytes: int, what: str) -> ParsedXml:
    """The element tree of ``data``, or :class:`CapRejected` saying why not."""
    if not data.strip():
        raise CapRejected(Reason.EMPTY, f"{what}: no content")
    if len(data) > max_bytes:
        raise CapRejected(Reason.TOO_LARGE, f"{what}: {len(data)} bytes (max {max_bytes})")
    body = data.removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(body[:4096]):
        raise CapRejected(
            Reason.HTML_PAGE, f"{what}: an HTML page (a server error page or a captive portal)"
        )
    flags: list[tuple[Reason, str]] = []
    try:
        root = _defused(body)
    except ET.ParseError as exc:
        repaired = _as_windows_1252(body)
        if repaired is None:
            raise CapRejected(
                Reason.NOT_WELL_FORMED, f"{what}: not well-formed XML ({exc})"
            ) from None
        try:
            root = _defused(repaired)
        except ET.ParseError:
            raise CapRejected(
                Reason.NOT_WELL_FORMED, f"{what}: not well-formed XML ({exc})"
            ) from None
        flags.append((Reason.MISLABELLED_ENCODING, f"{what}: read as Windows-1252"))
    _check_shape(root, limits, what)
    return ParsedXml(root, tuple(flags))


def _defused(data: bytes) -> ET.Element:
    try:
        root: ET.Element = DET.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise CapRejected(
            Reason.DOCTYPE_FORBIDDEN,
            f"a DOCTYPE or entity declaration ({type(exc).__name__}): never in CAP, refused",
        ) from None
    return root


def _as_windows_1252(data: bytes) -> bytes | None:
    """``data`` re-encoded as UTF-8 if it says UTF-8 (or nothing) but is Windows-1252."""
    declared = _DECLARED_ENCODING.match(data)
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    try:
        data.decode("utf-8")
        return None  # valid UTF-8: the fault is elsewhere
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return _XML_DECLARATION.sub("", text, count=1).encode("utf-8")


def _check_shape(root: ET.Element, limits: Limits, what: str) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        count += 1
        if count > limits.max_elements:
            raise CapRejected(
                Reason.TOO_MANY_ELEMENTS, f"{what}: more than {limits.max_elements} elements"
            )
        if depth > limits.max_depth:
            raise CapRejected(Reason.TOO_DEEP, f"{what}: nested deeper than {limits.max_depth}")
        for text in (elem.text, elem.tail, *elem.attrib.values()):
            if (
                text is not None
                and len(text) > limits.max_field_bytes // 4
                and (len(text.encode("utf-8", "surrogatepass")) > limits.max_field_bytes)
            ):
                raise CapRejected(
                    Reason.FIELD_TOO_LARGE,
                    f"{what}: <{local_name(elem.tag)}> holds more than "
                    f"{limits.max_field_bytes} bytes of text",
                )
        stack.extend((child, depth + 1) for child in elem)
