"""The simulator's figures as a Markdown table, each next to its anchor and its goal.

Anchors are the reference figures of shared/reference/performance.md (what real GossipSub,
Negentropy and Meshtastic meshes measure); goals are those of the simulator's issue. Every
text goes through :func:`protocol.i18n.tr` (``entraide simulate --lang fr``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from protocol.i18n import tr

from .figures import AlertFigure, ChurnFigure, HealFigure
from .lora import LoraFigure

__all__ = [
    "GOALS",
    "Row",
    "alert_rows",
    "churn_rows",
    "heal_rows",
    "lora_rows",
    "markdown",
    "verdict",
]

#: The issue's goals.
GOALS: Mapping[str, float] = MappingProxyType(
    {
        "alert_t99_s": 2.0,
        "duplicates": 1.0,
        "heal_s": 30.0,
        "heal_control_share": 0.05,
        "lora_utilisation": 0.20,
    }
)


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    anchor: str = ""
    goal: str = ""


def verdict(goal: str, passed: bool, lang: str) -> str:
    return tr("{goal}: PASS", lang, goal=goal) if passed else tr("{goal}: no", lang, goal=goal)


def _s(seconds: float | None, lang: str) -> str:
    return tr("never", lang) if seconds is None else f"{seconds:.2f} s"


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def _loss(share: float) -> str:
    return f"{100 * share:g} %"


def alert_rows(fig: AlertFigure, lang: str) -> list[Row]:
    t99 = fig.t99_max_s
    return [
        Row(
            tr(
                "{preset}: time for an alert to reach 99 % of {nodes} nodes, {loss} loss "
                "(worst of {alerts} alerts)",
                lang,
                preset=fig.preset,
                nodes=f"{fig.nodes:,}",
                loss=_loss(fig.loss),
                alerts=fig.alerts,
            ),
            tr(
                "{worst} (median {median}; every node: {all})",
                lang,
                worst=_s(t99, lang),
                median=_s(fig.t99_median_s, lang),
                all=_s(fig.t100_max_s, lang),
            ),
            tr("push-pull gossip ≈ 8.2 rounds at 1,000 nodes; a D=6 mesh ≈ 4.3 hops across", lang),
            verdict("≤ 2 s", t99 is not None and t99 <= GOALS["alert_t99_s"], lang),
        ),
        Row(
            tr("{preset}: duplicate receptions per node per message", lang, preset=fig.preset),
            tr(
                "{duplicates} ({payload} B of envelopes and {control} B of control sent per "
                "node per alert)",
                lang,
                duplicates=f"{fig.duplicates_per_node:.2f}",
                payload=f"{fig.payload_bytes_per_node:,.0f}",
                control=f"{fig.control_bytes_per_node:,.0f}",
            ),
            tr("GossipSub ≈ 2–3 (Ethereum ≈ 3 at D=8; (D−2)/2 ≈ 2 at D=6)", lang),
            verdict("≤ 1.0", fig.duplicates_per_node <= GOALS["duplicates"], lang),
        ),
    ]


def heal_rows(fig: HealFigure, lang: str) -> list[Row]:
    healed = fig.t_all_s
    return [
        Row(
            tr(
                "24 h partition healed: every one of {nodes} nodes holds the union of "
                "{union} messages ({during} posted during the cut)",
                lang,
                nodes=f"{fig.nodes:,}",
                union=f"{fig.union:,}",
                during=f"{fig.posted_during:,}",
            ),
            tr(
                "{all} after the first link back (99 %: {p99}; {sessions} catch-up sessions, "
                "{failed} failed)",
                lang,
                all=_s(healed, lang),
                p99=_s(fig.t99_s, lang),
                sessions=f"{fig.sessions:,}",
                failed=fig.failed,
            ),
            "",
            verdict("≤ 30 s", healed is not None and healed <= GOALS["heal_s"], lang),
        ),
        Row(
            tr("24 h partition: catch-up control traffic / envelope bytes moved", lang),
            tr(
                "{share} ({control} B / {envelopes} B; {redundant} envelopes received again "
                "from concurrent sessions; with Bloom filters instead of cells and ids: "
                "{bloom})",
                lang,
                share=_pct(fig.control_share),
                control=f"{fig.control_bytes:,}",
                envelopes=f"{fig.envelope_bytes:,}",
                redundant=f"{fig.redundant_envelopes:,}",
                bloom=_pct(fig.bloom_share),
            ),
            tr(
                "floor: d × 32 B for d differences (Negentropy 1.36× to ≈ 30× of it; ours "
                "0.87–1.06×, SPEC 10.5)",
                lang,
            ),
            verdict("≤ 5 %", fig.control_share <= GOALS["heal_control_share"], lang),
        ),
    ]


def churn_rows(fig: ChurnFigure, lang: str) -> list[Row]:
    return [
        Row(
            tr(
                "churn: {away} of {nodes} households leave 30–120 s while {alerts} alerts "
                "flow ({loss} loss); catch-up after return",
                lang,
                away=fig.departures,
                nodes=f"{fig.nodes:,}",
                alerts=fig.alerts,
                loss=_loss(fig.loss),
            ),
            tr(
                "median {median}, worst {worst} after return ({missed} alerts missed while "
                "away); delivery {delivered}",
                lang,
                median=_s(fig.catch_up_median_s, lang),
                worst=_s(fig.catch_up_max_s, lang),
                missed=fig.missed_on_return,
                delivered=_pct(fig.delivered),
            ),
            tr("gossip alone replays only its last ~3 s to a peer that returns", lang),
            "",
        )
    ]


def lora_rows(fig: LoraFigure, lang: str) -> list[Row]:
    setup = fig.setup
    name = tr(setup.name, lang)  # the setups' names are in EXTRA_MSGIDS
    airtime = ", ".join(f"{kind} {seconds:.0f} s" for kind, seconds in fig.airtime_by_kind.items())
    return [
        Row(
            tr(
                "LoRa, {name}: channel utilisation at the busiest of {nodes} nodes ({preset}, "
                "{hours} h; {checkins} check-in per household per hour, {alerts} alerts per hour)",
                lang,
                name=name,
                nodes=setup.nodes,
                preset=setup.preset,
                hours=f"{setup.hours:g}",
                checkins=f"{setup.checkins_per_hour:g}",
                alerts=f"{setup.alerts_per_hour:g}",
            ),
            tr(
                "{busiest} (median {median}, worst minute {minute}); {tx} frames an hour, "
                "{relayed} relayed; airtime an hour: {airtime}",
                lang,
                busiest=_pct(fig.utilisation_max),
                median=_pct(fig.utilisation_median),
                minute=_pct(fig.worst_minute),
                tx=f"{fig.transmissions_per_hour:,}",
                relayed=_pct(fig.relayed_share),
                airtime=airtime,
            ),
            tr("a 150-node Meshtastic LongFast mesh: 65 % (unreliable)", lang),
            verdict("≤ 20 %", fig.utilisation_max <= GOALS["lora_utilisation"], lang),
        ),
        Row(
            tr("LoRa, {name}: messages delivered to every node", lang, name=name),
            tr(
                "{soon} within 5 min, {after} after {drain} min of catch-up (90 % of "
                "receptions within {p90})",
                lang,
                soon=_pct(fig.delivered_soon),
                after=_pct(fig.delivered),
                drain=f"{setup.drain_s / 60:.0f}",
                p90=_s(fig.delivery_p90_s, lang),
            ),
            tr("each broadcast taking 4 transmissions: ≈ 214 an hour at 25 % of LongFast", lang),
            "",
        ),
    ]


def markdown(rows: Sequence[Row], lang: str) -> str:
    """A Markdown table of ``rows`` (``|`` in cells escaped)."""
    head = [tr("figure", lang), tr("measured", lang), tr("anchor", lang), tr("goal", lang)]

    def cells(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [cells(head), "|---|---|---|---|"]
    lines += [cells((r.figure, r.measured, r.anchor, r.goal)) for r in rows]
    return "\n".join(lines)
