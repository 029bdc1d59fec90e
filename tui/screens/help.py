"""Help board: requests and offers, filtered by need and urgency; claim, resolve, comment."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, DataTable, Select, Static

from protocol import kinds as k
from protocol import state
from protocol.envelope import Envelope
from protocol.i18n import label, tr

from ..messages import ComposeRequested
from ..model import Snapshot, filter_requests, may_resolve, verification_of
from ..text import (
    STATUS_STYLE,
    URGENCY_STYLE,
    one_line,
    request_status,
    verification_mark,
    who,
)
from ..widgets.board_table import BoardTable, Row
from ..widgets.details import message_summary
from .base import MainScreen
from .details import MessageScreen

REQUEST_NEEDS = tuple(n for n in k.Need if n <= k.Need.OTHER)


class HelpScreen(MainScreen):
    SECTION = "help"
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "claim", "Claim"),
        Binding("r", "resolve", "Resolve"),
        Binding("n", "comment", "Comment"),
        Binding("m", "toggle_mine", "Only mine"),
        Binding("a", "ask", "Ask for help"),
        Binding("o", "offer", "Offer help"),
        Binding("f", "filter", "Filter"),
        Binding("plus", "corroborate", "I saw it too", key_display="+"),
        Binding("x", "mark", "Mark"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.need: k.Need | None = None
        self.min_urgency: k.RequestUrgency | None = None
        self.only_mine = False
        self.hide_resolved = False
        self._rows: dict[tuple[object, ...], Row] = {}

    def compose_body(self) -> ComposeResult:
        lang = self.lang
        with Horizontal(id="filters"):
            yield Select(
                [(label(n, lang), n) for n in REQUEST_NEEDS],
                prompt=tr("any need", lang),
                value=self.need if self.need is not None else Select.NULL,
                id="need",
                compact=True,
            )
            yield Select(
                [
                    (tr("at least {urgency}", lang, urgency=label(u, lang)), u)
                    for u in reversed(k.RequestUrgency)
                ],
                prompt=tr("any urgency", lang),
                value=self.min_urgency if self.min_urgency is not None else Select.NULL,
                id="urgency",
                compact=True,
            )
            yield Checkbox(tr("Only mine", lang), self.only_mine, id="mine", compact=True)
            yield Checkbox(
                tr("Hide resolved", lang), self.hide_resolved, id="hide-resolved", compact=True
            )
        with Vertical(id="requests-box") as box:
            box.border_title = tr("Help requests", lang)
            yield BoardTable(
                tr("status", lang),
                tr("urgency", lang),
                tr("need", lang),
                tr("place", lang),
                tr("details", lang),
                id="requests",
            )
        with Vertical(id="offers-box") as box:
            box.border_title = tr("Help offers", lang)
            yield BoardTable(
                tr("offer", lang),
                tr("capacity", lang),
                tr("place", lang),
                tr("details", lang),
                tr("by", lang),
                id="offers",
            )
        yield Static(id="help-preview")

    def on_mount(self) -> None:
        self.query_one("#requests", BoardTable).focus()

    # --- showing ---------------------------------------------------------------------

    def show(self, snapshot: Snapshot) -> None:
        lang, me = self.lang, snapshot.me
        requests = filter_requests(
            snapshot.board,
            need=self.need,
            min_urgency=self.min_urgency,
            mine=me if self.only_mine else None,
            include_resolved=not self.hide_resolved,
        )
        self.query_one("#requests", BoardTable).show_rows(
            [self._row(v, me, lang) for v in requests]
        )

        mine_claimed = len(state.claimed_by(snapshot.board, me))
        title = tr("Help requests ({n})", lang, n=len(requests))
        if mine_claimed:
            title += " · " + tr("my claims: {n}", lang, n=mine_claimed)
        self.query_one("#requests-box").border_title = title
        offers = [
            o
            for o in snapshot.board.offers
            if (self.need is None or o.offer.what is self.need)
            and (not self.only_mine or o.envelope.author == me)
        ]
        self.query_one("#offers", BoardTable).show_rows([offer_row(o, me, lang) for o in offers])
        self.query_one("#offers-box").border_title = tr("Help offers ({n})", lang, n=len(offers))
        self._preview()

    def _row(self, view: state.RequestView, me: bytes, lang: str) -> Row:
        """A request's row, built once for each state of the request (large boards change a
        few rows at a time)."""
        key = (
            view.envelope.id,
            view.status,
            view.claimers,
            view.resolved_by,
            len(view.comments),
            verification_of(view),
            me,
            lang,
        )
        row = self._rows.get(key)
        if row is None:
            if (
                len(self._rows)
                > 4 * len(self.snapshot.board.requests if self.snapshot else ()) + 64
            ):
                self._rows.clear()
            row = self._rows[key] = request_row(view, me, lang)
        return row

    def _preview(self) -> None:
        preview = self.query_one("#help-preview", Static)
        env, snapshot = self.selected(), self.snapshot
        if env is None or snapshot is None:
            preview.update("")
            return
        preview.update(message_summary(env, snapshot, self.lang))

    def selected(self) -> Envelope | None:
        """The request or offer under the cursor of the table last focused."""
        table = self.focused if isinstance(self.focused, BoardTable) else None
        if table is None:
            table = self.query_one("#requests", BoardTable)
        return self.envelope_of(table.selected_key)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._preview()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        env, snapshot = self.envelope_of(event.row_key.value), self.snapshot
        if env is not None and snapshot is not None:
            self.app.push_screen(MessageScreen(env, snapshot, self.lang))

    # --- filters ---------------------------------------------------------------------

    # Each handler shows the board again only on a real change: the widgets also report
    # the value they start with.

    @on(Select.Changed, "#need")
    def _need_changed(self, event: Select.Changed) -> None:
        need = event.value if isinstance(event.value, k.Need) else None
        if need != self.need:
            self.need = need
            self.refresh_view()

    @on(Select.Changed, "#urgency")
    def _urgency_changed(self, event: Select.Changed) -> None:
        value = event.value
        urgency = value if isinstance(value, k.RequestUrgency) else None
        if urgency != self.min_urgency:
            self.min_urgency = urgency
            self.refresh_view()

    @on(Checkbox.Changed, "#mine")
    def _mine_changed(self, event: Checkbox.Changed) -> None:
        if event.value != self.only_mine:
            self.only_mine = event.value
            self.refresh_view()

    @on(Checkbox.Changed, "#hide-resolved")
    def _resolved_changed(self, event: Checkbox.Changed) -> None:
        if event.value != self.hide_resolved:
            self.hide_resolved = event.value
            self.refresh_view()

    def action_toggle_mine(self) -> None:
        self.query_one("#mine", Checkbox).toggle()

    def action_filter(self) -> None:
        self.query_one("#need", Select).focus()

    # --- actions ---------------------------------------------------------------------

    def action_claim(self) -> None:
        env = self.envelope_of(self.query_one("#requests", BoardTable).selected_key)
        snapshot = self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return
        view = next((v for v in snapshot.board.requests if v.envelope.id == env.id), None)
        if view is not None and view.status is state.RequestStatus.RESOLVED:
            self.notify(tr("This request is already resolved.", self.lang), severity="warning")
            return
        self.post_message(ComposeRequested(k.Kind.CLAIM, target=env))

    def action_resolve(self) -> None:
        env, snapshot = self.selected(), self.snapshot
        if env is None or snapshot is None:
            self.nothing_selected()
            return
        if not may_resolve(snapshot.messages, env, snapshot.me):
            self.notify(
                tr(
                    "only its author or someone who claimed it can resolve {id}",
                    self.lang,
                    id=env.short_id,
                ),
                severity="warning",
            )
            return
        self.post_message(ComposeRequested(k.Kind.RESOLUTION, target=env))

    def action_comment(self) -> None:
        env = self.selected()
        if env is None:
            self.nothing_selected()
            return
        self.post_message(ComposeRequested(k.Kind.COMMENT, target=env))

    def action_ask(self) -> None:
        values = {"need": self.need} if self.need is not None else {}
        self.post_message(ComposeRequested(k.Kind.HELP_REQUEST, values=values))

    def action_offer(self) -> None:
        self.post_message(ComposeRequested(k.Kind.HELP_OFFER))


def request_row(view: state.RequestView, me: bytes, lang: str) -> Row:
    req = view.request
    need = Text(label(req.need, lang))
    if req.people > 1:
        need.append(f" ×{req.people}", style="bold")
    if req.vulnerable:
        need.append(" ⚠", style="bold red")
    need.append_text(verification_mark(verification_of(view)))
    if view.status is state.RequestStatus.CLAIMED:
        claimers = ", ".join(tr("you", lang) if c == me else who(c) for c in view.claimers)
        details = tr("claimed by {who}", lang, who=claimers)
    elif view.resolved_by is not None and view.resolved_by != view.requester:
        details = tr("closed by helper {who}", lang, who=who(view.resolved_by))
    else:
        details = req.text
    if view.requester == me:
        details = tr("(mine)", lang) + " " + details
    if view.comments:
        details += " " + tr("[{n} comments]", lang, n=len(view.comments))
    return (
        view.envelope.id.hex(),
        (
            Text(request_status(view.status, lang), style=STATUS_STYLE[view.status]),
            Text(label(req.urgency, lang), style=URGENCY_STYLE[req.urgency]),
            need,
            one_line(req.place, 14),
            one_line(details, 36),
        ),
    )


def offer_row(view: state.OfferView, me: bytes, lang: str) -> Row:
    offer = view.offer
    what = label(offer.what, lang)
    if offer.standing:
        what += " ∞"
    return (
        view.envelope.id.hex(),
        (
            what,
            str(offer.capacity),
            one_line(offer.place, 16),
            one_line(offer.text, 30),
            tr("you", lang) if view.envelope.author == me else who(view.envelope.author),
        ),
    )
