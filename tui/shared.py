"""What every screen and widget reads from the app: the latest snapshot, the language, the
state of the link to the node. Screens watch these; they never call the node themselves."""

from __future__ import annotations

from typing import Protocol, cast

from textual.dom import DOMNode

from .link import LinkState
from .model import Snapshot


class Shared(Protocol):
    snapshot: Snapshot | None
    lang: str
    link_state: LinkState


def shared(node: DOMNode) -> Shared:
    """The app's shared state, as seen from ``node``."""
    return cast(Shared, node.app)
