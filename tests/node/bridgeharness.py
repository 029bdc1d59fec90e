"""A real HTTP server on 127.0.0.1 serving the CAP corpus, and a bridge node around it.

:class:`FeedServer` runs ``http.server`` in a thread on a free loopback port. Each path is a
:class:`Route` (status, headers, body, or a delay before answering); :meth:`FeedServer.index`
builds an Atom index linking to routes. Every request is recorded (path and headers), so a
test can tell what the bridge fetched.

:class:`Watch` records, with an audit hook, every file a test's code opens and every address
it connects to, so a test can show that no local file was read and no connection left
loopback while hostile documents were handled.
"""

from __future__ import annotations

import contextlib
import gzip
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from node.bridge.area import ZoneArea
from node.bridge.cap import Circle
from node.bridge.settings import BridgeSettings, FeedSource
from node.config import Config, ZoneSettings, save_config
from node.daemon import Node, NodeOptions
from node.identity import create_identity, load_identity
from node.store import Store

REPO = Path(__file__).resolve().parents[2]
#: The CAP corpus (real, hostile and synthetic documents; provenance in its SOURCES.md),
#: copied from the team's shared data so a clean clone runs every bridge test.
CAP_DATA = REPO / "tests" / "data" / "cap"
ZONE = bytes.fromhex("3f2a9c01")
#: The SEVESO exercise: a 2 km circle around 49.443,1.085 (Seine-Maritime).
SEVESO_ZONE = ZoneArea(circles=(Circle(49.44, 1.09, 1.0),))


def cap_file(name: str) -> Path:
    for folder in ("samples", "hostile", "synthetic"):
        path = CAP_DATA / folder / name
        if path.exists():
            return path
    raise FileNotFoundError(name)


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a stalled server).
    delay: float = 0.0
    #: Send a body this long (in 64 KiB pieces of zeros) instead of ``body``.
    stream_bytes: int = 0


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class FeedServer:
    """http.server on a free 127.0.0.1 port; routes can change while it runs."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(Request(self.path, dict(self.headers.items())))
                    route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    server.stop.wait(route.delay)
                etag = route.headers.get("ETag")
                if etag is not None and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                if route.stream_bytes:
                    self.send_header("Content-Type", "application/xml")
                    self.end_headers()
                    piece = b"\0" * 65536
                    with contextlib.suppress(OSError):
                        for _ in range(route.stream_bytes // len(piece)):
                            self.wfile.write(piece)
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(route.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def serve(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        with self.lock:
            self.routes[path] = Route(status, body, dict(headers))

    def serve_file(self, name: str, path: str | None = None) -> str:
        path = path or f"/cap/{name}"
        self.serve(path, cap_file(name).read_bytes(), **{"Content-Type": "application/cap+xml"})
        return path

    def route(self, path: str, route: Route) -> None:
        with self.lock:
            self.routes[path] = route

    def index(self, path: str, links: list[str], *, etag: str | None = None) -> None:
        """An Atom index at ``path`` with one entry per link (absolute, or a path here)."""
        entries = "".join(
            f"<entry><id>tag:test,{i}:{escape(link)}</id><title>entry {i}</title>"
            f"<updated>2026-01-20T09:00:00Z</updated>"
            f'<link type="application/cap+xml" href="{escape(self._absolute(link))}"/></entry>'
            for i, link in enumerate(links)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:test,feed</id>'
            f"<title>test feed</title><updated>2026-01-20T09:00:00Z</updated>{entries}</feed>"
        ).encode()
        headers = {"Content-Type": "application/atom+xml"}
        if etag is not None:
            headers["ETag"] = etag
        self.serve(path, body, **headers)

    def _absolute(self, link: str) -> str:
        return self.url(link) if link.startswith("/") else link

    def fetched(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


class Clock:
    """A settable clock for the node (unix seconds)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_node(
    home: Path,
    clock: Clock,
    *,
    trust_self: bool = True,
    bridge_keys: tuple[bytes, ...] = (),
    language: str = "fr",
) -> Node:
    """A node on ``home`` (created), not serving: the bridge posts through it directly."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    identity = create_identity(home)
    keys = [*bridge_keys, *([identity.public_key] if trust_self else [])]
    config = Config(
        zone=ZoneSettings(zone_id=ZONE, name="Quartier du Mont", bridge_keys=keys),
        language=language,
    )
    save_config(home, config)
    store = Store.open(home / "store.sqlite3", verify_workers=0)
    socket_dir = Path(tempfile.mkdtemp(prefix="ent"))
    options = NodeOptions(wifi=False, control_path=socket_dir / "n.sock")
    return Node(home, config, load_identity(home), store, options, clock=clock)


def settings_for(
    server: FeedServer, *paths: str, area: ZoneArea = SEVESO_ZONE, **options: Any
) -> BridgeSettings:
    sources = tuple(
        FeedSource(name=f"feed{i}", url=server.url(p), hosts=frozenset({server.host}))
        for i, p in enumerate(paths)
    )
    values: dict[str, Any] = {
        "sources": sources,
        "area": area,
        "allow_http_loopback": True,
        "timeout_total_s": 10.0,
        "poll_interval_s": 60.0,
    }
    values.update(options)
    return BridgeSettings(**values)


class Watch:
    """Records the files opened, the names looked up and the addresses connected to, while
    active (an audit hook).

    Audit hooks cannot be removed: one hook is installed for the test session and reports
    to whichever Watch is active.
    """

    _active: list[Watch] = []  # noqa: RUF012 - the one hook's subscribers
    _installed = False

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.connected: list[Any] = []
        self.looked_up: list[Any] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if not cls._active:
            return
        if event == "open" and args and isinstance(args[0], str | bytes | Path):
            for watch in cls._active:
                watch.opened.append(str(args[0]))
        elif event == "socket.connect" and len(args) >= 2:
            for watch in cls._active:
                watch.connected.append(args[1])
        elif event == "socket.getaddrinfo" and args:
            for watch in cls._active:
                watch.looked_up.append(args[0])

    @contextlib.contextmanager
    def active(self) -> Iterator[Watch]:
        if not Watch._installed:
            sys.addaudithook(Watch._hook)
            Watch._installed = True
        Watch._active.append(self)
        try:
            yield self
        finally:
            Watch._active.remove(self)

    def non_loopback(self) -> list[Any]:
        def loopback(address: Any) -> bool:
            if isinstance(address, str):  # a Unix socket path
                return True
            host = str(address[0])
            return host.startswith("127.") or host == "::1"

        return [a for a in self.connected if not loopback(a)]

    def files_matching(self, predicate: Callable[[str], bool]) -> list[str]:
        return [p for p in self.opened if predicate(p)]


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start
