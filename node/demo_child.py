"""What ``entraide demo`` runs in each child process: a household node or the demo's bridge.

    python -m node.demo_child node --home H node [entraide node options…]
    python -m node.demo_child bridge --home H --feed http://127.0.0.1:PORT/feed.xml
                                     [--poll S] [--listen A] [--peer P] [--log-level L]

``node`` runs the rest as an ``entraide`` command line (``entraide --home H node …``).
``bridge`` is ``entraide bridge`` reading one source, the demo's local feed: its settings are
built here rather than read from bridge.toml, because a bridge.toml only accepts https
sources, polled at most once a minute. Here the source must be plain http on a loopback
address (127.0.0.1 or ::1), polled every few seconds; nothing else is fetched (the bridge's
own link rules apply, with http allowed on loopback only:
``BridgeSettings.allow_http_loopback``).

Both stay tied to the demo: ``ENTRAIDE_DEMO_PARENT`` holds the demo's pid, and a watchdog
thread sends this process SIGTERM (a clean stop) as soon as its parent is another process,
so that even a demo killed outright leaves no node running. (The kernel's
``PR_SET_PDEATHSIG`` would not do: it follows the parent *thread*, and trio starts processes
from worker threads that come and go.)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

PARENT_ENV = "ENTRAIDE_DEMO_PARENT"
WATCH_INTERVAL_S = 1.0
#: The demo zone's area, for the bridge: the exercise's release site (see node.demo_feed).
ZONE_CIRCLE = (49.443, 1.085, 3.0)
MIN_POLL_S = 1.0


def bind_to_parent() -> None:
    """Stop (SIGTERM to this process) when the demo that started it is gone."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        return
    if os.getppid() != int(parent):
        sys.exit(0)  # the demo is gone already

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(WATCH_INTERVAL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="demo-parent-watch", daemon=True).start()


def loopback_feed(url: str) -> str:
    """``url`` if it is an http(s) URL on a loopback address, else :class:`SystemExit`."""
    from node.bridge.settings import is_loopback

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname or ""):
        raise SystemExit(f"demo bridge: {url!r} is not a feed on 127.0.0.1 or [::1]")
    return url


def run_bridge(argv: Sequence[str]) -> int:
    import dataclasses

    import trio

    from node.bridge.area import ZoneArea
    from node.bridge.cap import Circle
    from node.bridge.run import run_bridge as serve_bridge
    from node.bridge.settings import BridgeSettings, FeedSource, url_host
    from node.config import load_config
    from node.daemon import NodeOptions, home_lock, open_node
    from node.identity import load_identity

    parser = argparse.ArgumentParser(prog="node.demo_child bridge")
    parser.add_argument("--home", required=True)
    parser.add_argument("--feed", required=True, type=loopback_feed)
    parser.add_argument("--name", default="Préfecture (exercice)")
    parser.add_argument("--poll", type=float, default=3.0)
    parser.add_argument("--listen", action="append", default=[])
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = parser.parse_args(argv)

    home = Path(args.home)
    config, identity = load_config(home), load_identity(home)
    if identity.public_key not in config.zone.bridge_keys:  # it stores the mirrors it signs
        zone = dataclasses.replace(
            config.zone, bridge_keys=[*config.zone.bridge_keys, identity.public_key]
        )
        config = dataclasses.replace(config, zone=zone)
    lat, lon, radius = ZONE_CIRCLE
    settings = BridgeSettings(
        sources=(FeedSource(args.name, args.feed, frozenset({url_host(args.feed)})),),
        area=ZoneArea(circles=(Circle(lat, lon, radius),)),
        poll_interval_s=max(MIN_POLL_S, args.poll),
        languages=(config.language, "en"),
        allow_http_loopback=True,
    )
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("libp2p").setLevel(logging.CRITICAL)
    options = NodeOptions(
        listen=tuple(args.listen) or NodeOptions().listen,
        mdns=False,
        extra_peers=tuple(args.peer),
    )
    with home_lock(home):
        node = open_node(home, config, identity, options)
        try:
            trio.run(serve_bridge, node, settings)
        finally:
            node.store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bind_to_parent()
    if argv[:1] == ["node"]:
        from node.cli import main as cli_main

        return cli_main(argv[1:])
    if argv[:1] == ["bridge"]:
        return run_bridge(argv[1:])
    print("usage: python -m node.demo_child node|bridge …", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
