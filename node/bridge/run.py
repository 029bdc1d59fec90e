"""Running the bridge: as a long-lived node (``entraide bridge``) or once (``--once``)."""

from __future__ import annotations

import logging
import signal
from collections import Counter
from collections.abc import Callable
from typing import Any

import trio

from node.daemon import Node

from .fetch import Fetcher
from .service import BridgeService, Outcome, PollReport
from .settings import BridgeSettings

__all__ = ["bridge_once", "run_bridge", "summary"]

log = logging.getLogger("entraide.bridge")


async def run_bridge(
    node: Node, settings: BridgeSettings, *, ready: Callable[[], None] | None = None
) -> str:
    """Serve ``node`` and its bridge until SIGINT or SIGTERM; return the signal's name."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(node.serve)
            await nursery.start(BridgeService(node, settings).serve)
            if ready is not None:
                ready()
            async for signum in signals:
                name = signal.Signals(signum).name
                log.info("%s received: stopping", name)
                nursery.cancel_scope.cancel()
                return name
    return "cancelled"  # pragma: no cover - the loop above only ends by returning


async def bridge_once(
    node: Node, settings: BridgeSettings
) -> tuple[list[PollReport], list[Outcome]]:
    """Read every source and folder once; what is mirrored is stored in the node's store
    (it goes out at the node's next start, with catch-up)."""
    async with Fetcher.client_for(settings) as client:
        service = BridgeService(node, settings, client=client)
        reports = [await service.poll(source) for source in settings.sources]
        outcomes = []
        for folder in settings.folders:
            outcomes += await service.scan_folder(folder)
    return reports, outcomes


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "where": outcome.where,
        "status": outcome.status,
        "cap": None if outcome.key is None else list(outcome.key),
        "reason": None if outcome.reason is None else outcome.reason.value,
        "detail": outcome.detail,
        "flags": [reason.value for reason, _ in outcome.flags],
        "mirror": None if outcome.mirror_id is None else outcome.mirror_id.hex(),
        "tombstones": [t.hex() for t in outcome.tombstones],
    }


def summary(reports: list[PollReport], folder_outcomes: list[Outcome]) -> dict[str, Any]:
    """What one pass did, as JSON."""
    sources = []
    for report in reports:
        sources.append(
            {
                "source": report.source,
                "ok": report.ok,
                "not_modified": report.not_modified,
                "error": None
                if report.error is None
                else {"code": report.error.code, "message": str(report.error)},
                "refused_links": [[url, reason.value] for url, reason in report.refused_links],
                "documents": [_outcome_json(o) for o in report.outcomes],
                "counts": dict(Counter(o.status for o in report.outcomes)),
            }
        )
    return {
        "sources": sources,
        "folders": [_outcome_json(o) for o in folder_outcomes],
        "counts": dict(
            Counter(o.status for o in [*folder_outcomes, *(x for r in reports for x in r.outcomes)])
        ),
    }
