"""Words and styles shared by the screens: times, households, severities (French or English)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from protocol import kinds as k
from protocol import state
from protocol.i18n import label, tr
from protocol.state import Board, HouseholdKey, RequestStatus
from protocol.trust import VerificationState

#: What the app shows for a value the node does not report.
NONE = "—"


def ago(ts: int, now: int, lang: str) -> str:
    """How long ago (or how far ahead) ``ts`` is: "now", "5 min ago", "in 3 h"."""
    delta = now - ts
    if abs(delta) < 60:
        return tr("now", lang)
    if abs(delta) < 3600:
        rel = tr("{n} min", lang, n=abs(delta) // 60)
    elif abs(delta) < 172800:
        rel = tr("{n} h", lang, n=abs(delta) // 3600)
    else:
        rel = tr("{n} days", lang, n=abs(delta) // 86400)
    return tr("{rel} ago", lang, rel=rel) if delta > 0 else tr("in {rel}", lang, rel=rel)


def ago_or_none(ts: int | None, now: int, lang: str) -> str:
    return NONE if ts is None else ago(ts, now, lang)


def clock(ts: int) -> str:
    """Local date and time, day first."""
    return datetime.fromtimestamp(ts).strftime("%d/%m %H:%M")


def duration(minutes: int, lang: str) -> str:
    if minutes >= 2 * 1440 and minutes % 1440 == 0:
        return tr("{n} days", lang, n=minutes // 1440)
    if minutes >= 60 and minutes % 60 == 0:
        return tr("{n} h", lang, n=minutes // 60)
    return tr("{n} min", lang, n=minutes)


def who(key: bytes) -> str:
    """A household key as the command line shows it: its first 8 hex digits."""
    return key[:4].hex()


def household(board: Board, key: HouseholdKey, me: bytes, lang: str) -> str:
    """A household in a table: "you", the name a neighbour gave it, or its short key."""
    if key == me:
        return tr("you", lang)
    if isinstance(key, bytes):
        return who(key)
    view = board.checkin_of(key)
    if view is not None and view.checkin.subject_name:
        return view.checkin.subject_name
    return key[1]


def request_status(status: RequestStatus, lang: str) -> str:
    return {
        RequestStatus.OPEN: tr("open", lang),
        RequestStatus.CLAIMED: tr("claimed", lang),
        RequestStatus.RESOLVED: tr("resolved", lang),
    }[status]


# --- styles (Rich styles, so that DataTable cells can carry them) -------------------------
# They read on a black background as well as on the default dark theme, so the high-contrast
# theme keeps them.

SEVERITY_STYLE = {
    k.Severity.EXTREME: "bold white on red",
    k.Severity.SEVERE: "bold red",
    k.Severity.MODERATE: "bold yellow",
    k.Severity.MINOR: "cyan",
    k.Severity.UNKNOWN: "",
}

#: A whole line about an alert (the banner): a background for every severity.
BANNER_STYLE = {
    k.Severity.EXTREME: "bold white on red",
    k.Severity.SEVERE: "bold white on dark_red",
    k.Severity.MODERATE: "bold black on yellow",
    k.Severity.MINOR: "black on cyan",
    k.Severity.UNKNOWN: "bold reverse",
}

URGENCY_STYLE = {
    k.RequestUrgency.CRITICAL: "bold white on red",
    k.RequestUrgency.HIGH: "bold red",
    k.RequestUrgency.NORMAL: "",
    k.RequestUrgency.LOW: "dim",
}

STATUS_STYLE = {
    RequestStatus.OPEN: "bold",
    RequestStatus.CLAIMED: "yellow",
    RequestStatus.RESOLVED: "dim green",
}

CHECKIN_STYLE = {
    k.CheckInStatus.SAFE: "green",
    k.CheckInStatus.NEED_HELP: "bold red",
    k.CheckInStatus.INJURED: "bold white on red",
    k.CheckInStatus.NOBODY_HOME: "yellow",
}


VERIFICATION_STYLE = {
    VerificationState.OFFICIAL: "bold green",
    VerificationState.CONFIRMED: "green",
    VerificationState.CORROBORATED: "cyan",
    VerificationState.UNVERIFIED: "dim",
    VerificationState.MARKED_FALSE: "bold red strike",
}

#: A one-character mark for narrow columns (unverified: none).
VERIFICATION_MARK = {
    VerificationState.OFFICIAL: " ✓",
    VerificationState.CONFIRMED: " ✓",
    VerificationState.CORROBORATED: " +",
    VerificationState.UNVERIFIED: "",
    VerificationState.MARKED_FALSE: " ✗",
}


def verification_label(level: VerificationState, lang: str) -> str:
    return {
        VerificationState.OFFICIAL: tr("official", lang),
        VerificationState.CONFIRMED: tr("confirmed", lang),
        VerificationState.CORROBORATED: tr("corroborated", lang),
        VerificationState.UNVERIFIED: tr("unverified", lang),
        VerificationState.MARKED_FALSE: tr("marked false", lang),
    }[level]


def verification_cell(level: VerificationState | None, lang: str) -> Text:
    if level is None:
        return Text(NONE)
    return Text(verification_label(level, lang), style=VERIFICATION_STYLE[level])


def verification_mark(level: VerificationState | None) -> Text:
    if level is None:
        return Text()
    return Text(VERIFICATION_MARK[level], style=VERIFICATION_STYLE[level])


def severity_cell(severity: k.Severity, lang: str) -> Text:
    return Text(label(severity, lang), style=SEVERITY_STYLE[severity])


def alert_source(view: state.AlertView, lang: str) -> Text:
    """Official (a zone bridge's mirror) or community; exercise and all-clear marks."""
    text = Text()
    if view.official:
        text.append(tr("OFFICIAL", lang), style="bold reverse")
    else:
        text.append(tr("community", lang))
    if view.exercise:
        text.append(" " + tr("EXERCISE", lang), style="bold magenta")
    if view.all_clear:
        text.append(" " + tr("ALL CLEAR", lang), style="bold green")
    return text


def checkin_cell(status: k.CheckInStatus, lang: str) -> Text:
    return Text(label(status, lang), style=CHECKIN_STYLE.get(status, ""))


def one_line(text: str, width: int) -> str:
    """Text on one line, cut with an ellipsis to ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"
