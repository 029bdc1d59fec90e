"""``entraide simulate``: run the chosen figures and print them as one table (or JSON)."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import time
from collections.abc import Callable
from typing import Any, TextIO

from protocol.i18n import tr

from . import figures, lora, report

__all__ = ["DEFAULT_PRESETS", "FIGURES", "simulate"]

FIGURES = ("alert", "heal", "churn", "lora")
#: The alert figure's gossip configurations: entraide node --gossip mesh (gossipsub), then
#: the alternatives; announce is what the node runs by default (node/sim/gossip.py).
DEFAULT_PRESETS = ("gossipsub", "gossipsub-d3", "announce-eager1", "announce")


@dataclasses.dataclass(frozen=True)
class Sizes:
    nodes: int
    lora_nodes: int
    hours: float
    warmup_s: float
    drain_s: float


def sizes(args: argparse.Namespace) -> Sizes:
    quick = bool(args.quick)
    return Sizes(
        nodes=args.nodes or (200 if quick else 1000),
        lora_nodes=args.lora_nodes or (50 if quick else 150),
        hours=args.hours or (0.25 if quick else 1.0),
        warmup_s=900.0 if quick else 1800.0,
        drain_s=600.0 if quick else 1800.0,
    )


def simulate(
    args: argparse.Namespace, *, lang: str, out: TextIO, err: TextIO, as_json: bool
) -> int:
    chosen = [f for f in FIGURES if f in (args.figures or FIGURES)]
    size = sizes(args)
    rows: list[report.Row] = []
    results: dict[str, list[dict[str, Any]]] = {}
    started = time.perf_counter()

    def measure(name: str, what: str, run: Callable[[], Any]) -> Any:
        print(tr("simulating {what}…", lang, what=what), file=err, flush=True)
        figure = run()
        results.setdefault(name, []).append(_jsonable(dataclasses.asdict(figure)))
        return figure

    run: Callable[[], Any]
    if "alert" in chosen:
        for preset in args.preset or DEFAULT_PRESETS:
            run = functools.partial(
                figures.alert_figure,
                nodes=size.nodes,
                loss=args.loss,
                alerts=args.alerts,
                preset=preset,
                seed=args.seed,
            )
            what = tr("alerts over gossip ({preset})", lang, preset=preset)
            rows += report.alert_rows(measure("alert", what, run), lang)
    if "heal" in chosen:
        run = functools.partial(figures.heal_figure, nodes=size.nodes, seed=args.seed)
        rows += report.heal_rows(measure("heal", tr("a partition healing", lang), run), lang)
    if "churn" in chosen:
        run = functools.partial(
            figures.churn_figure, nodes=size.nodes, loss=args.loss, seed=args.seed
        )
        what = tr("households leaving and returning", lang)
        rows += report.churn_rows(measure("churn", what, run), lang)
    if "lora" in chosen:
        for setup in lora.LORA_SETUPS:
            saturated = setup.summary_interval_s < 900  # before's: slow to simulate, and
            # a quarter of an hour (after its summaries started) shows what happens
            setup = dataclasses.replace(
                setup,
                nodes=size.lora_nodes,
                hours=min(size.hours, 0.25) if saturated else size.hours,
                warmup_s=min(size.warmup_s, 900.0) if saturated else size.warmup_s,
                drain_s=min(size.drain_s, 300.0) if saturated else size.drain_s,
                seed=args.seed,
            )
            run = functools.partial(lora.lora_figure, setup)
            what = tr("LoRa: {name}", lang, name=tr(setup.name, lang))
            rows += report.lora_rows(measure("lora", what, run), lang)
    if as_json:
        json.dump(results, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        print(report.markdown(rows, lang), file=out)
    print(
        tr("Simulated in {seconds} s (seed {seed}).", lang,
           seconds=f"{time.perf_counter() - started:.0f}", seed=args.seed),
        file=err,
    )  # fmt: skip
    return 0


def _jsonable(value: Any) -> Any:
    """asdict() output with infinities as None (JSON has no infinity)."""
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
