"""The demo's official source: the French SEVESO exercise, served over HTTP on 127.0.0.1.

The exercise (the prefecture's civil-protection service warns of a simulated toxic release at
a fictitious SEVESO site) is three CAP 1.2 documents, as in the project's exercise sequence:
an Alert, an Update that widens the shelter zone, an AllClear (an Update with the
``AllClear`` response). Each is dated by the demo's clock when it is published (the exercise's
own dates are long past), and each Update references the documents before it by
``sender,identifier,sent``, as CAP wants.

:class:`FeedServer` is a small HTTP/1.1 server (trio, loopback only): ``/feed.xml`` is an Atom
index listing the documents published so far (with an ETag, so the bridge's conditional GET
gets 304 while nothing changed), ``/cap/<identifier>.xml`` each document.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import trio

log = logging.getLogger("entraide.demo.feed")

__all__ = ["EXERCISE", "SENDER", "FeedServer", "cap_document"]

SENDER = "exercice.sidpc@prefecture.example.invalid"
#: Centre of the simulated release, and of the demo's zone (Seine-Maritime).
CENTRE = (49.443, 1.085)
INDEX_PATH = "/feed.xml"
MAX_REQUEST = 16 * 1024
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Info:
    """One language's ``<info>`` block."""

    language: str
    event: str
    headline: str
    description: str
    instruction: str


@dataclass(frozen=True)
class Step:
    identifier: str
    msg_type: str
    response: str
    urgency: str
    severity: str
    #: From ``sent`` to ``expires``, as in the exercise.
    lifetime_s: int
    radius_km: int
    polygon: str
    fr: Info
    en: Info


_AREA = "Zone de 2 km autour du site industriel fictif (exercice), Seine-Maritime"

EXERCISE: tuple[Step, ...] = (
    Step(
        "FR-EX-2026-0001",
        "Alert",
        "Shelter",
        "Immediate",
        "Severe",
        4 * 3600,
        2,
        "",
        Info(
            "fr-FR",
            "Accident industriel - rejet toxique (EXERCICE)",
            "EXERCICE - Mise à l'abri immédiate : rejet toxique",
            "EXERCICE. Un rejet de gaz toxique est simulé sur un site SEVESO seuil haut fictif.",
            "EXERCICE. Rentrez dans le bâtiment le plus proche, fermez portes et fenêtres, "
            "arrêtez la ventilation. N'allez pas chercher vos enfants à l'école.",
        ),
        Info(
            "en-GB",
            "Industrial accident - toxic release (EXERCISE)",
            "EXERCISE - Shelter in place now: toxic release",
            "EXERCISE. A toxic gas release is simulated at a fictitious upper-tier SEVESO site.",
            "EXERCISE. Go indoors, close doors and windows, switch off ventilation.",
        ),
    ),
    Step(
        "FR-EX-2026-0002",
        "Update",
        "Shelter",
        "Immediate",
        "Extreme",
        5 * 3600 + 20 * 60,
        5,
        "49.470,1.040 49.470,1.130 49.420,1.130 49.420,1.040 49.470,1.040",
        Info(
            "fr-FR",
            "Accident industriel - rejet toxique (EXERCICE)",
            "EXERCICE - Zone de mise à l'abri étendue à 5 km",
            "EXERCICE. Le panache simulé s'étend vers le nord-est.",
            "EXERCICE. Restez à l'abri. Écoutez France Bleu.",
        ),
        Info(
            "en-GB",
            "Industrial accident - toxic release (EXERCISE)",
            "EXERCISE - Shelter zone extended to 5 km",
            "EXERCISE. The simulated plume is moving north-east.",
            "EXERCISE. Stay indoors.",
        ),
    ),
    Step(
        "FR-EX-2026-0003",
        "Update",
        "AllClear",
        "Past",
        "Minor",
        45 * 60,
        5,
        "",
        Info(
            "fr-FR",
            "Accident industriel - rejet toxique (EXERCICE)",
            "EXERCICE - Fin de l'alerte",
            "EXERCICE. Le rejet simulé est maîtrisé.",
            "EXERCICE. Vous pouvez sortir et aérer.",
        ),
        Info(
            "en-GB",
            "Industrial accident - toxic release (EXERCISE)",
            "EXERCISE - All clear",
            "EXERCISE. The simulated release is under control.",
            "EXERCISE. You may go outside and ventilate.",
        ),
    ),
)


def cap_time(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _info(step: Step, info: Info, sent: int) -> str:
    polygon = f"<polygon>{step.polygon}</polygon>" if step.polygon else ""
    return (
        f"<info><language>{info.language}</language>"
        "<category>Safety</category><category>CBRNE</category>"
        f"<event>{escape(info.event)}</event><responseType>{step.response}</responseType>"
        f"<urgency>{step.urgency}</urgency><severity>{step.severity}</severity>"
        "<certainty>Observed</certainty>"
        f"<effective>{cap_time(sent)}</effective><onset>{cap_time(sent)}</onset>"
        f"<expires>{cap_time(sent + step.lifetime_s)}</expires>"
        "<senderName>Préfecture (EXERCICE)</senderName>"
        f"<headline>{escape(info.headline)}</headline>"
        f"<description>{escape(info.description)}</description>"
        f"<instruction>{escape(info.instruction)}</instruction>"
        f"<area><areaDesc>{escape(_AREA)}</areaDesc>{polygon}"
        f"<circle>{CENTRE[0]},{CENTRE[1]} {step.radius_km}</circle>"
        "<geocode><valueName>INSEE</valueName><value>76540</value></geocode>"
        "</area></info>"
    )


def cap_document(index: int, sent: list[int]) -> bytes:
    """Step ``index`` of the exercise as a CAP 1.2 document; ``sent[i]`` is when step ``i``
    was published (unix seconds), for its own ``sent`` and the references of later steps."""
    step = EXERCISE[index]
    references = " ".join(
        f"{SENDER},{EXERCISE[i].identifier},{cap_time(sent[i])}" for i in range(index)
    )
    refs = f"<references>{references}</references>" if references else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{step.identifier}</identifier><sender>{SENDER}</sender>"
        f"<sent>{cap_time(sent[index])}</sent><status>Exercise</status>"
        f"<msgType>{step.msg_type}</msgType><scope>Public</scope>"
        "<note>EXERCICE - EXERCISE - ne pas diffuser au public</note>"
        f"{refs}<incidents>EXERCICE-SEVESO-2026-01</incidents>"
        f"{_info(step, step.fr, sent[index])}{_info(step, step.en, sent[index])}"
        "</alert>\n"
    ).encode()


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class _Resource:
    body: bytes
    content_type: str
    etag: str


class FeedServer:
    """The exercise's feed on ``127.0.0.1``: :meth:`publish` the next step when it is time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.port = 0
        self.sent: list[int] = []  # publication time of each step published so far
        self._resources: dict[str, _Resource] = {}
        self.requests = 0
        self._set_index()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{INDEX_PATH}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def published(self) -> list[str]:
        return [EXERCISE[i].identifier for i in range(len(self.sent))]

    def publish_next(self) -> str | None:
        """Publish the next step of the exercise; its identifier (None: all are out)."""
        index = len(self.sent)
        if index >= len(EXERCISE):
            return None
        self.sent.append(int(self._clock()))
        step = EXERCISE[index]
        body = cap_document(index, self.sent)
        self._resources[f"/cap/{step.identifier}.xml"] = _Resource(
            body, "application/cap+xml", _etag(body)
        )
        self._set_index()
        log.info("feed: published %s (%s)", step.identifier, step.msg_type)
        return step.identifier

    def _set_index(self) -> None:
        entries = "".join(
            f"<entry><id>urn:demo:{EXERCISE[i].identifier}</id>"
            f"<title>{escape(EXERCISE[i].fr.headline)}</title>"
            f"<updated>{cap_time(self.sent[i])}</updated>"
            f'<link type="application/cap+xml" '
            f'href="/cap/{EXERCISE[i].identifier}.xml"/></entry>'
            for i in range(len(self.sent))
        )
        updated = cap_time(self.sent[-1]) if self.sent else "2026-01-01T00:00:00+00:00"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:demo:exercice</id>'
            f"<title>Préfecture (EXERCICE)</title><updated>{updated}</updated>{entries}</feed>\n"
        ).encode()
        self._resources[INDEX_PATH] = _Resource(body, "application/atom+xml", _etag(body))

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.serve_listeners, self._handle, listeners)
            task_status.started(self)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            with trio.move_on_after(REQUEST_TIMEOUT_S):
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = await stream.receive_some(4096)
                    if not chunk or len(head) + len(chunk) > MAX_REQUEST:
                        return
                    head += chunk
                await stream.send_all(self._answer(head))

    def _answer(self, head: bytes) -> bytes:
        self.requests += 1
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or parts[0] != "GET":
            return _response(405, "Method Not Allowed")
        resource = self._resources.get(parts[1])
        if resource is None:
            return _response(404, "Not Found")
        if headers.get("if-none-match") == resource.etag:
            return _response(304, "Not Modified", etag=resource.etag)
        return _response(200, "OK", resource.body, resource.content_type, resource.etag)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _response(
    status: int, reason: str, body: bytes = b"", content_type: str = "text/plain", etag: str = ""
) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if status != 304:
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    if etag:
        head.append(f"ETag: {etag}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body
