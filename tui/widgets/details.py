"""A message in full, with what refers to it (claims, resolutions, comments): for the
details window and the preview panes."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from protocol import kinds as k
from protocol.envelope import Envelope
from protocol.i18n import label, tr
from protocol.schema import Point
from protocol.trust import describe

from ..forms import field_label
from ..model import Snapshot, verification_of
from ..text import VERIFICATION_STYLE, ago, clock, duration, who

_TIME_FIELDS = frozenset({"drill_start", "drill_end"})


def field_text(name: str, value: Any, now: int, lang: str) -> str:
    if isinstance(value, enum.IntEnum):
        return label(value, lang)
    if isinstance(value, bool):
        return tr("yes", lang) if value else tr("no", lang)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Point):
        return str(value)
    if name in _TIME_FIELDS and isinstance(value, int):
        return f"{clock(value)} ({ago(value, now, lang)})"
    if name == "eta_minutes" and isinstance(value, int):
        return duration(value, lang)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return ", ".join(
            f"{f.name}={field_text(f.name, getattr(value, f.name), now, lang)}"
            for f in dataclasses.fields(value)
        )
    return str(value)


def author_text(author: bytes, me: bytes, lang: str) -> str:
    return tr("you", lang) if author == me else who(author)


def body_table(env: Envelope, snapshot: Snapshot, lang: str) -> Table:
    """The fields a message sets (defaults left out), one per line."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    now = snapshot.now
    for f in dataclasses.fields(env.body):
        value = getattr(env.body, f.name)
        if value is None or value == f.default:
            continue
        table.add_row(
            tr("{label}:", lang, label=field_label(f.name, lang)),
            field_text(f.name, value, now, lang),
        )
    return table


def message_details(env: Envelope, snapshot: Snapshot, lang: str) -> RenderableType:
    now, me = snapshot.now, snapshot.me
    head = Text()
    head.append(label(env.kind, lang).capitalize(), style="bold")
    head.append(f"  {env.short_id}", style="dim")
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row(tr("{label}:", lang, label=tr("author", lang)), author_text(env.author, me, lang))
    facts.add_row(
        tr("{label}:", lang, label=tr("created", lang)),
        f"{clock(env.created)} ({ago(env.created, now, lang)})",
    )
    facts.add_row(
        tr("{label}:", lang, label=tr("expires", lang)),
        f"{clock(env.expires)} ({ago(env.expires, now, lang)})",
    )
    view = snapshot.views.get(env.id)
    level = verification_of(view)
    if view is not None and level is not None:  # in words: who confirmed it, how many saw it
        facts.add_row(
            tr("{label}:", lang, label=tr("verification", lang)),
            Text(describe(view.verification, lang), style=VERIFICATION_STYLE[level]),
        )
    parts: list[RenderableType] = [head, facts, body_table(env, snapshot, lang)]
    related = snapshot.messages.citing(env)
    if related:
        parts.append(Text())
        for other in related:
            line = Text("← ")
            line.append(label(other.kind, lang), style="bold")
            line.append(
                " "
                + tr("by {who}", lang, who=author_text(other.author, me, lang))
                + ", "
                + ago(other.created, now, lang)
            )
            summary = _summary(other, lang)
            if summary:
                line.append(": " + summary)
            parts.append(line)
    return Group(*parts)


def _summary(env: Envelope, lang: str) -> str:
    """What a claim, resolution or comment says, in a few words."""
    body = env.body
    if isinstance(body, k.Claim):
        eta = tr("expected in {eta}", lang, eta=duration(body.eta_minutes, lang))
        return f"{eta} {body.text}".strip() if body.eta_minutes else body.text
    if isinstance(body, k.Resolution):
        return f"{label(body.outcome, lang)} {body.text}".strip()
    text = getattr(body, "text", "")
    return text if isinstance(text, str) else ""


def message_summary(env: Envelope, snapshot: Snapshot, lang: str) -> Text:
    """A message in a few lines: who and when, then its fields on one wrapped line."""
    now, me = snapshot.now, snapshot.me
    text = Text()
    text.append(label(env.kind, lang).capitalize(), style="bold")
    text.append(f" {env.short_id} · ", style="dim")
    text.append(tr("by {who}", lang, who=author_text(env.author, me, lang)))
    text.append(", " + ago(env.created, now, lang) + "\n")
    fields = []
    for f in dataclasses.fields(env.body):
        value = getattr(env.body, f.name)
        if value is None or value == f.default:
            continue
        fields.append(
            tr("{label}:", lang, label=field_label(f.name, lang))
            + " "
            + field_text(f.name, value, now, lang)
        )
    text.append(" · ".join(fields))
    return text
