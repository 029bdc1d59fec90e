"""App-wide messages: what screens ask of the app, which alone talks to the node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from protocol import kinds as k
from protocol.envelope import Envelope

from .forms import Draft


@dataclass
class PostDraft(Message):
    """Have the node sign and publish this message."""

    draft: Draft
    #: Shown once the node has it (else the generic "Posted …" notice).
    notice: str | None = None


@dataclass
class ComposeRequested(Message):
    """Open the compose form for ``kind``, about ``target`` if it refers to a message, with
    some fields already filled in; what the user confirms is posted."""

    kind: k.Kind
    target: Envelope | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    #: Earlier messages of the same author this one replaces (an update).
    replaces: tuple[Envelope, ...] = ()
    #: A line above the form saying what the message is about.
    about: str = ""
