"""The town-hall bridge: official CAP alerts mirrored into the mesh (``entraide bridge``).

- :mod:`.safexml`: untrusted XML parsed safely (size caps, no DTD, no entities);
- :mod:`.cap`: CAP 1.2/1.1 documents validated for meaning;
- :mod:`.feed`: Atom and RSS indexes that list them;
- :mod:`.fetch`: HTTPS with timeouts, redirects, size caps and allow-listed hosts;
- :mod:`.area`: the zone's area, alert areas and the shipped region polygons;
- :mod:`.mirror`: supersession, cancellation, dialects, lifetimes: what to sign;
- :mod:`.service`: the trio service that polls and signs through the node;
- :mod:`.settings`: the ``[bridge]`` table of config.toml;
- :mod:`.errors`: the reason codes of every refusal.
"""

from .errors import BridgeConfigError, CapRejected, FetchFailed, LinkRefused, Reason
from .service import BridgeService, Outcome, PollReport
from .settings import BridgeSettings, FeedSource, load_bridge_settings

__all__ = [
    "BridgeConfigError",
    "BridgeService",
    "BridgeSettings",
    "CapRejected",
    "FeedSource",
    "FetchFailed",
    "LinkRefused",
    "Outcome",
    "PollReport",
    "Reason",
    "load_bridge_settings",
]
