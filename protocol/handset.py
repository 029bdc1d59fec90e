"""Plain Meshtastic handsets: the texts they show, and the short commands they send.

A volunteer (a "local relay") carries a plain Meshtastic handset during a blackout. It runs no
entraide and signs nothing, so a node speaks to it in plain text:

- :func:`render_for_handset`: an alert, a help request, a resource point or an incident as one
  line of at most 200 bytes of UTF-8 (a handset shows it as received). Urgent ones start with
  BEL (the handset's buzzer) and the visible marker ``!!``; see :func:`is_urgent`.
- :func:`parse_command`: a command typed (or picked from :func:`canned_messages`) on a handset
  into a typed :data:`HandsetCommand`, or a :class:`BadCommand` whose ``reply(lang)`` is the
  text to send back.
- :func:`draft_from_command`: the message the receiving node signs with its own key, as a
  witness, naming the handset in the body's ``via`` (SPEC.md 7.1); then
  :func:`acknowledgement` is the text to send back.

Grammar (case, accents and surrounding punctuation do not matter; French or English keywords;
``[x]`` is optional; ``id`` is the 8 hex digits of a request, as a rendered request shows it)::

    SOS [need] [people] [text]            a help request, a life at risk ("other" if no need)
    AIDE|HELP need [people] [text]        a help request of normal urgency
    OK|ÇA VA|CA VA|SAFE [text]            the handset's holder is safe
    OK|ÇA VA|CA VA|SAFE POUR|FOR name     someone the holder visited is safe
    PRIS|TAKE id [eta] [text]             the holder takes the request; eta 20, 20min, 2h
    FAIT|DONE id [text]                   the request the holder made or took is done
    ? | AIDE | HELP                       the list of commands (:func:`help_text`)

``need`` is one word of :data:`NEED_WORDS` or any label :func:`protocol.i18n.parse_label`
reads ("eau", "water", "soins médicaux"...); ``people`` a number 1–999, unless a street word
follows it ("AIDE eau 12 rue des Lilas" has no count: "12 rue des Lilas" is the text).

What handsets show: the firmware's fonts for the small screens of many handsets draw ASCII
and Latin-1 only, so the markers are ASCII, typographic characters are folded ("’" to "'",
"…" to "...", "œ" to "oe") and a cut text ends with "..." rather than "…". Everything here is
pure: the time is a parameter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, TypeAlias

from .envelope import Envelope, lifetime_to_outlive, short_id
from .errors import EntraideError, InvalidMessage, PeerError, UsageError
from .i18n import label, normalise_language, parse_label, tr
from .kinds import (
    LINE,
    REQUEST_NEEDS,
    SHORT,
    TEXT,
    Alert,
    AlertOrigin,
    CheckIn,
    CheckInStatus,
    Claim,
    Handset,
    HelpRequest,
    Incident,
    Kind,
    Need,
    Point,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    Severity,
    Urgency,
)
from .schema import check_text, is_blank
from .state import RequestStatus, RequestView, derive, via_handset

__all__ = [
    "MAX_CANNED_BYTES",
    "MAX_COMMAND_BYTES",
    "MAX_TEXT_BYTES",
    "NEED_WORDS",
    "BadCommand",
    "CloseRequest",
    "Draft",
    "HandsetCommand",
    "ReportSafe",
    "RequestHelp",
    "ShowHelp",
    "TakeRequest",
    "acknowledgement",
    "canned_messages",
    "draft_from_command",
    "help_text",
    "is_urgent",
    "parse_command",
    "render_for_handset",
]

#: The most a text for a handset takes, in bytes of UTF-8 (a Meshtastic frame holds 232).
MAX_TEXT_BYTES: Final = 200
#: The most a handset's canned-message line takes (Meshtastic's limit).
MAX_CANNED_BYTES: Final = 256
#: The longest text a handset can send on a channel; anything longer is not from a handset.
MAX_COMMAND_BYTES: Final = 232

BEL: Final = "\x07"  # rings the handset's buzzer where enabled; shows nothing
URGENT_MARK: Final = "!!"  # what shows that it rang: ASCII, which every screen draws
ELLIPSIS: Final = "..."  # "…" is not in the Latin-1 fonts of handset screens
SEP: Final = " | "
#: A field cut to fit must keep at least this much, or it is left out.
_MIN_PART = 24

# --- text a handset shows -------------------------------------------------------------------

#: Typographic characters that handset fonts (ASCII and Latin-1) lack; never grows a text.
_FOLD: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2022": "-",
        "\u2026": "...",
        "\u203c": "!!",
        "\u0152": "OE",
        "\u0153": "oe",
        "\u20ac": "EUR",
    }
)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _clean(text: str) -> str:
    """One line a handset shows: NFC, typography folded, no control, format, private or
    unassigned character (category C), white space collapsed."""
    folded = unicodedata.normalize("NFC", text).translate(_FOLD)
    kept = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in folded)
    return " ".join(kept.split())


def _attached(text: str, i: int) -> bool:
    """Whether text[i] belongs to the character before it (an accent, a variation selector)."""
    return i < len(text) and unicodedata.category(text[i])[0] == "M"


def _cut(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` within ``max_bytes``, on a character boundary that does
    not separate a letter from its accents."""
    end = len(text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore"))
    while end > 0 and _attached(text, end):
        end -= 1
    return text[:end]


def _fit(text: str) -> str:
    """A whole text for a handset: cleaned, and clipped to MAX_TEXT_BYTES."""
    return _clip(_clean(text), MAX_TEXT_BYTES)


def _clip(text: str, max_bytes: int) -> str:
    """``text`` within ``max_bytes``, cut after a word if one ends near the limit, and ended
    with :data:`ELLIPSIS` when cut."""
    if _size(text) <= max_bytes:
        return text
    head = _cut(text, max_bytes - len(ELLIPSIS))
    space = head.rfind(" ")
    if space >= max(1, len(head) - 16):
        head = head[:space]
    return head.rstrip(" ,;:|-") + ELLIPSIS


def _compose(head: str, parts: Sequence[str], tail: Sequence[str], *, urgent: bool) -> str:
    """``head parts[0] | parts[1] ... | tail...`` within MAX_TEXT_BYTES: the head and the tail
    always, the first part cut if need be, each next part while it fits."""
    start = BEL + URGENT_MARK + " " + head if urgent else head
    end = "".join(SEP + t for t in tail if t)
    room = MAX_TEXT_BYTES - _size(start) - _size(end)
    body = ""
    for part in (p for p in parts if p):
        sep = SEP if body else " "
        if _size(sep + part) <= room:
            body, room = body + sep + part, room - _size(sep + part)
            continue
        if not body or room >= _MIN_PART:
            body += sep + _clip(part, room - _size(sep))
        break
    return (start + body + end).translate(_FOLD)  # the catalogue's texts too


def _age(created: int, now: int, lang: str) -> str:
    """How long ago, coarse: the handset shows when it got a text, not when it was written."""
    minutes = (now - created) // 60
    if minutes < 1:
        return ""
    if minutes < 60:
        return tr("{n} min ago", lang, n=minutes)
    if minutes < 48 * 60:
        return tr("{n} h ago", lang, n=minutes // 60)
    return tr("{n} d ago", lang, n=minutes // (24 * 60))


def is_urgent(env: Envelope) -> bool:
    """Whether a handset should ring for ``env``: a real alert (not an exercise, not an
    all-clear) that is severe or extreme, or to act on immediately and not minor; a help
    request where a life is at risk. Nothing else rings: a buzzer that rings too often is
    soon switched off."""
    body = env.body
    if isinstance(body, Alert):
        return (
            not body.exercise
            and not body.all_clear
            and (
                body.severity >= Severity.SEVERE
                or (body.urgency is Urgency.IMMEDIATE and body.severity is not Severity.MINOR)
            )
        )
    if isinstance(body, HelpRequest):
        return body.urgency is RequestUrgency.CRITICAL
    return False


def render_for_handset(env: Envelope, lang: str, *, now: int) -> str:
    """``env`` as one line for a handset in ``lang``: at most :data:`MAX_TEXT_BYTES` bytes of
    UTF-8, no control character but a leading BEL on urgent messages (:func:`is_urgent`),
    then the marker ``!!``. Alerts, help requests, resource points and incidents only; a
    request ends with the command that takes it ("PRIS 3f2a19c0")."""
    body = env.body
    age = _age(env.created, now, lang)
    if isinstance(body, Alert):
        head, parts = _alert_text(body, lang)
        return _compose(head, parts, [age], urgent=is_urgent(env))
    if isinstance(body, HelpRequest):
        head, parts = _request_text(body, lang)
        take = tr("To help: TAKE {id}", lang, id=env.short_id)
        return _compose(head, parts, [age, take], urgent=is_urgent(env))
    if isinstance(body, ResourcePoint):
        what = label(body.type, lang).upper()
        if not body.open:
            what = tr("{what} (CLOSED)", lang, what=what)
        hours = tr("Hours: {hours}", lang, hours=_clean(body.hours)) if body.hours else ""
        parts = [_clean(body.name), hours, _clean(body.text)]
        return _compose(tr("{label}:", lang, label=what), parts, [age], urgent=False)
    if isinstance(body, Incident):
        what = label(Kind.INCIDENT, lang).upper()
        head = f"{what} ({label(body.severity, lang)})"
        parts = [label(body.type, lang), _clean(body.place), _clean(body.text)]
        return _compose(tr("{label}:", lang, label=head), parts, [age], urgent=False)
    raise UsageError(f"no handset text for a {env.kind.name.lower()}")


def _alert_text(alert: Alert, lang: str) -> tuple[str, list[str]]:
    official = alert.origin is AlertOrigin.OFFICIAL
    if alert.all_clear:
        what = tr("OFFICIAL ALL CLEAR", lang) if official else tr("COMMUNITY ALL CLEAR", lang)
    else:
        what = tr("OFFICIAL ALERT", lang) if official else tr("COMMUNITY ALERT", lang)
        if alert.severity is not Severity.UNKNOWN:
            what = f"{what} ({label(alert.severity, lang)})"
    if alert.exercise:
        what = tr("[EXERCISE] {what}", lang, what=what)
    parts = [_clean(alert.headline)]
    if alert.area:
        parts.append(tr("Area: {area}", lang, area=_clean(alert.area)))
    if alert.instruction:
        parts.append(tr("Instruction: {text}", lang, text=_clean(alert.instruction)))
    if alert.official is not None:
        parts.append(tr("Source: {source}", lang, source=_clean(alert.official.source)))
    return tr("{label}:", lang, label=what), parts


def _request_text(request: HelpRequest, lang: str) -> tuple[str, list[str]]:
    if request.urgency is RequestUrgency.CRITICAL:
        what = tr("SOS, LIFE AT RISK", lang)
    elif request.urgency is RequestUrgency.NORMAL:
        what = tr("HELP REQUEST", lang)
    else:
        what = f"{tr('HELP REQUEST', lang)} ({label(request.urgency, lang)})"
    need = label(request.need, lang)
    if request.people > 1:
        need += ", " + tr("{n} people", lang, n=request.people)
    if request.vulnerable:
        need += ", " + tr("vulnerable person", lang)
    via = "" if request.via is None else tr("via handset {node}", lang, node=str(request.via))
    parts = [need, _clean(request.place), _clean(request.text), via]
    return tr("{label}:", lang, label=what), parts


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestHelp:
    """SOS (critical) or AIDE/HELP (normal): a help request."""

    need: Need
    urgency: RequestUrgency
    people: int = 1
    text: str = ""
    lang: str | None = None  # the language the command was typed in, when it tells


@dataclass(frozen=True, slots=True)
class ReportSafe:
    """OK: the handset's holder is safe; OK POUR/FOR name: someone visited is."""

    name: str = ""  # empty: the holder
    text: str = ""
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class TakeRequest:
    """PRIS/TAKE id: the holder takes the help request of that short id."""

    short_id: str
    eta_minutes: int = 0
    text: str = ""
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class CloseRequest:
    """FAIT/DONE id: the help request the holder made or took is done."""

    short_id: str
    text: str = ""
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """? (or AIDE/HELP alone): send :func:`help_text` back."""

    lang: str | None = None


HandsetCommand: TypeAlias = RequestHelp | ReportSafe | TakeRequest | CloseRequest | ShowHelp


class BadCommand(PeerError):
    """A handset's text this node cannot carry out. Send ``reply(lang)`` back, in the
    language the command was typed in (``lang``) if it tells, else the node's."""

    code = "bad-command"
    #: The language of the command, when its keyword tells ("PRIS" is French).
    lang: str | None = None
    #: What the reply adds after the message: the commands, the needs, or nothing.
    hint: str = ""

    def reply(self, lang: str) -> str:
        """The text for the handset, at most :data:`MAX_TEXT_BYTES` bytes."""
        text = tr(self.msgid, lang, **self.params) if self.msgid else str(self)
        if self.hint == _COMMANDS:
            text += " " + _commands_line(lang)
        elif self.hint == _NEEDS:
            text += " " + _needs_line(lang)
        return _fit(text)


_COMMANDS, _NEEDS = "commands", "needs"


def _bad(exc: BadCommand, lang: str | None, hint: str = "") -> BadCommand:
    exc.lang, exc.hint = lang, hint
    return exc


#: One-word names a handset may use for each need a request can ask for, (English, French),
#: matched without case or accents; the first of each is shown in the help and the canned
#: messages. :func:`protocol.i18n.parse_label` reads the full labels too.
NEED_WORDS: Final[Mapping[Need, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    Need.WATER: (("water",), ("eau",)),
    Need.FOOD: (("food",), ("nourriture", "manger", "repas")),
    Need.MEDICAL: (("medical", "doctor", "care"), ("soins", "médecin", "médical")),
    Need.MEDICATION: (("medication", "medicine", "meds"), ("médicaments", "médicament")),
    Need.EVACUATION: (("evacuation", "evacuate"), ("évacuation", "évacuer")),
    Need.SHELTER: (("shelter",), ("abri", "hébergement", "logement")),
    Need.POWER: (("power", "charging", "battery"), ("électricité", "courant", "recharge")),
    Need.TRANSPORT: (("transport", "ride"), ("transport", "véhicule")),
    Need.CHECK_ON_PERSON: (("visit", "check"), ("visite", "passage")),
    Need.OTHER: (("other",), ("autre",)),
}

# Keywords (as _key gives them) and the language they tell, if any.
_Keywords: TypeAlias = Mapping[str, str | None]
_SOS: Final[_Keywords] = {"sos": None}
_ASK: Final[_Keywords] = {"aide": "fr", "help": "en"}
_SAFE: Final[_Keywords] = {"ok": None, "safe": "en", "cava": "fr"}  # and "ça va"
_FOR: Final[_Keywords] = {"pour": "fr", "for": "en"}
_TAKE: Final[_Keywords] = {"pris": "fr", "take": "en"}
_DONE: Final[_Keywords] = {"fait": "fr", "done": "en"}
_MENU: Final[_Keywords] = {"?": None, "menu": None}
#: A number followed by one of these is a street number, not a count of people.
_STREET: Final = frozenset(
    {
        *("rue", "av", "avenue", "bd", "boulevard", "place", "pl", "chemin", "ch", "impasse"),
        *("allee", "route", "rte", "quai", "cours", "square", "residence", "res", "bis", "ter"),
        *("street", "st", "road", "rd", "lane", "ln", "drive", "dr", "way"),
    }
)
_PEOPLE_WORDS: Final = frozenset(
    {"p", "pers", "personne", "personnes", "people", "person", "persons"}
)
_COUNT = re.compile(r"(\d{1,4})(p|pers|personnes?|people|persons?)?")
_SHORT_ID = re.compile(r"#?([0-9a-f]{8})")
_ETA = re.compile(r"(\d{1,5})(min|mn|m|h)?")
#: Punctuation a keyword may carry ("OK!", "SOS...", "ça va ?").
_PUNCTUATION = ".,;:!?¡¿'\"()"


def _key(word: str) -> str:
    """A word as keywords are matched: case, accents and surrounding punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.strip(_PUNCTUATION) or bare


def _word_table() -> dict[str, Need]:
    table: dict[str, Need] = {}
    for need, (english, french) in NEED_WORDS.items():
        for word in (*english, *french):
            assert table.setdefault(_key(word), need) is need, f"{word!r} names two needs"
    return table


_NEED_BY_WORD: Final = _word_table()


def _words(text: str) -> list[str]:
    """The words of a command, or BadCommand for what no handset sends."""
    if not isinstance(text, str):
        raise UsageError(f"a handset command is text, not {type(text).__name__}")
    # Checked first, so that a huge input costs nothing more (lone surrogates are refused
    # below, as control characters are).
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_COMMAND_BYTES:
        raise _bad(
            BadCommand.tr(
                "Message too long: {size} bytes, at most {max}.", size=size, max=MAX_COMMAND_BYTES
            ),
            None,
        )
    # Handsets may add BEL (canned messages' "send bell"); white space of any kind separates.
    spaced = "".join(" " if c.isspace() else c for c in text.replace(BEL, ""))
    try:
        check_text(spaced, "command", 4 * MAX_COMMAND_BYTES, multiline=False)
    except InvalidMessage:
        raise _bad(
            BadCommand.tr("Message refused: it contains a control character."), None
        ) from None
    return unicodedata.normalize("NFC", spaced).split()


def _free_text(words: Sequence[str], max_bytes: int, lang: str | None) -> str:
    text = " ".join(words)
    if is_blank(text.strip(_PUNCTUATION)):
        return ""
    if _size(text) > max_bytes:
        raise _bad(
            BadCommand.tr(
                "Text too long: {size} bytes, at most {max}.", size=_size(text), max=max_bytes
            ),
            lang,
        )
    return text


def _need(words: Sequence[str]) -> tuple[Need | None, int]:
    """The need the words start with and how many words name it, or (None, 0)."""
    for n in range(min(4, len(words)), 0, -1):  # the longest label first: "soins médicaux"
        if n == 1 and (found := _NEED_BY_WORD.get(_key(words[0]))) is not None:
            return found, 1
        phrase = " ".join(words[:n])
        if phrase.isdigit():
            continue  # a count of people, not a need's number
        try:
            return parse_label(Need, phrase), n
        except EntraideError:
            continue
    return None, 0


def _people(words: Sequence[str], lang: str | None) -> tuple[int, int]:
    """The count of people the words start with and how many words it takes, or (1, 0)."""
    if not words:
        return 1, 0
    match = _COUNT.fullmatch(_key(words[0]))
    if match is None:
        return 1, 0
    if match.group(2) is None and len(words) > 1 and _key(words[1]) in _STREET:
        return 1, 0  # "12 rue des Lilas" is a place
    count = int(match.group(1))
    if not 1 <= count <= 999:
        raise _bad(BadCommand.tr("The number of people is 1 to 999."), lang)
    used = 1
    if match.group(2) is None and len(words) > 1 and _key(words[1]) in _PEOPLE_WORDS:
        used = 2
    return count, used


def _help_request(words: Sequence[str], urgency: RequestUrgency, lang: str | None) -> RequestHelp:
    need, used = _need(words)
    if need is not None and need not in REQUEST_NEEDS:
        if urgency is not RequestUrgency.CRITICAL:
            raise _bad(
                BadCommand.tr(
                    '"{value}" can be offered, not asked for.', value=" ".join(words[:used])[:24]
                ),
                lang,
                _NEEDS,
            )
        need, used = None, 0  # an SOS takes it as text
    if need is None:
        if urgency is not RequestUrgency.CRITICAL:
            if not words or _people(words, lang)[1]:
                raise _bad(BadCommand.tr("Say what is needed."), lang, _NEEDS)
            raise _bad(BadCommand.tr('Unknown need "{value}".', value=words[0][:24]), lang, _NEEDS)
        need = Need.OTHER
    rest = words[used:]
    people, used = _people(rest, lang)
    text = _free_text(rest[used:], TEXT, lang)
    return RequestHelp(need, urgency, people, text, lang)


def _short_id_of(words: Sequence[str], verb: str, lang: str | None) -> str:
    if not words:
        raise _bad(BadCommand.tr("Give the request's number: {verb} 3f2a19c0", verb=verb), lang)
    match = _SHORT_ID.fullmatch(_key(words[0]))
    if match is None:
        raise _bad(
            BadCommand.tr(
                '"{value}" is not a request number: 8 characters 0-9 and a-f, like 3f2a19c0.',
                value=words[0][:24],
            ),
            lang,
        )
    return match.group(1)


def _eta(words: Sequence[str], lang: str | None) -> tuple[int, int]:
    if not words:
        return 0, 0
    match = _ETA.fullmatch(_key(words[0]))
    if match is None:
        return 0, 0
    minutes = int(match.group(1)) * (60 if match.group(2) == "h" else 1)
    if minutes > 7 * 24 * 60:
        raise _bad(BadCommand.tr("An arrival time is at most 7 days away."), lang)
    return minutes, 1


def parse_command(text: str) -> HandsetCommand:
    """The command in a handset's text (grammar in the module docstring).

    Raises :class:`BadCommand` for anything else (empty, unknown, too long, with control
    characters...), whose ``reply(lang)`` says what is wrong and what to send instead."""
    words = _words(text)
    if not words:
        raise _bad(BadCommand.tr("Empty message."), None, _COMMANDS)
    first, rest = _key(words[0]), words[1:]
    lang: str | None
    if first in _MENU:
        return ShowHelp()
    if first in _SOS:
        return _help_request(rest, RequestUrgency.CRITICAL, None)
    if first in _ASK:
        lang = _ASK[first]
        if not rest or all(_key(w) in _MENU for w in rest):
            return ShowHelp(lang)
        return _help_request(rest, RequestUrgency.NORMAL, lang)
    if first in _SAFE or (first == "ca" and rest and _key(rest[0]) == "va"):
        lang = _SAFE.get(first, "fr")
        rest = rest if first in _SAFE else rest[1:]
        if rest and _key(rest[0]) in _FOR:
            lang = lang or _FOR[_key(rest[0])]
            name = " ".join(rest[1:])
            if is_blank(name.strip(_PUNCTUATION)):
                raise _bad(BadCommand.tr("Give the name: OK FOR Mrs Martin"), lang)
            if _size(name) > SHORT:
                raise _bad(
                    BadCommand.tr(
                        "Name too long: {size} bytes, at most {max}.", size=_size(name), max=SHORT
                    ),
                    lang,
                )
            return ReportSafe(name=name, lang=lang)
        return ReportSafe(text=_free_text(rest, LINE, lang), lang=lang)
    if first in _TAKE:
        lang = _TAKE[first]
        sid = _short_id_of(rest, first.upper(), lang)
        eta, used = _eta(rest[1:], lang)
        return TakeRequest(sid, eta, _free_text(rest[1 + used :], LINE, lang), lang)
    if first in _DONE:
        lang = _DONE[first]
        sid = _short_id_of(rest, first.upper(), lang)
        return CloseRequest(sid, _free_text(rest[1:], LINE, lang), lang)
    raise _bad(BadCommand.tr("Unknown command."), None, _COMMANDS)


# --- help, canned messages, acknowledgements -------------------------------------------------


def _is_french(lang: str) -> bool:
    return normalise_language(lang) == "fr"


def _need_word(need: Need, lang: str) -> str:
    english, french = NEED_WORDS[need]
    return french[0] if _is_french(lang) else english[0]


def _commands_line(lang: str) -> str:
    return tr(
        "Commands: SOS | HELP need [people] [text] | OK | OK FOR name | TAKE id | DONE id | ?",
        lang,
    )


def _needs_line(lang: str) -> str:
    return tr("Needs: {needs}.", lang, needs=", ".join(_need_word(n, lang) for n in NEED_WORDS))


def help_text(lang: str) -> str:
    """What a handset gets for "?": the commands and the needs, at most 200 bytes."""
    return _fit(_commands_line(lang) + " " + _needs_line(lang))


def canned_messages(lang: str) -> str:
    """The canned-message line to load into handsets (``meshtastic --set-canned-message``):
    commands a volunteer sends with one button, separated by ``|``, at most 256 bytes."""
    ask = "AIDE" if _is_french(lang) else "HELP"
    needs = [f"{ask} {_need_word(n, lang)}" for n in NEED_WORDS if n is not Need.OTHER]
    return "|".join(["SOS", *needs, "OK", "?"]).translate(_FOLD)


def acknowledgement(env: Envelope, lang: str) -> str:
    """What to send back to the handset once ``env``, drafted by :func:`draft_from_command`,
    is signed and stored: at most :data:`MAX_TEXT_BYTES` bytes."""
    body = env.body
    if isinstance(body, HelpRequest):
        if body.urgency is RequestUrgency.CRITICAL:
            text = tr(
                "SOS received and passed on as {id}. Send DONE {id} when it is over.",
                lang,
                id=env.short_id,
            )
        else:
            text = tr(
                "Request ({need}) passed on as {id}. Send DONE {id} when it is over.",
                lang,
                need=label(body.need, lang),
                id=env.short_id,
            )
    elif isinstance(body, CheckIn):
        if body.via is not None and body.subject_name == str(body.via):
            text = tr("Noted: you are safe.", lang)
        else:
            text = tr("Noted: {name} is safe.", lang, name=_clean(body.subject_name))
    elif isinstance(body, Claim):
        text = tr(
            "Noted: you take {id}. Send DONE {id} once it is done.",
            lang,
            id=short_id(env.refs[0]),
        )
    elif isinstance(body, Resolution):
        text = tr("Noted: {id} is done. Thank you!", lang, id=short_id(env.refs[0]))
    else:
        raise UsageError(f"no handset acknowledgement for a {env.kind.name.lower()}")
    return _fit(text)


# --- from a command to a message ------------------------------------------------------------


class Draft(NamedTuple):
    """A message for the witness to sign: ``seal(draft.body, signing_key=..., created=now,
    zone=..., refs=draft.refs, lifetime=draft.lifetime)``."""

    kind: Kind
    body: HelpRequest | CheckIn | Claim | Resolution
    refs: tuple[bytes, ...]
    lifetime: int | None  # minutes; None for the kind's default


def _handset(node: int, name: str | None) -> Handset:
    if type(node) is not int or not 1 <= node <= 2**32 - 2:
        raise UsageError(f"handset node number {node!r}: not a Meshtastic node number")
    shown = _cut(_clean(name or ""), SHORT).strip()
    return Handset(node=node, name=shown)


def _request_view(
    cmd: TakeRequest | CloseRequest,
    target: Envelope | None,
    related: Sequence[Envelope],
    now: int,
) -> RequestView:
    """The current request ``cmd`` names, or BadCommand saying why there is none."""
    sid, lang = cmd.short_id, cmd.lang
    if target is None:
        raise _bad(BadCommand.tr("No request {id} is known here.", id=sid), lang)
    if target.short_id != sid:
        raise UsageError(f"target {target.short_id} is not the request {sid} named")
    if target.kind is not Kind.HELP_REQUEST:
        raise _bad(BadCommand.tr("{id} is not a help request.", id=sid), lang)
    views = derive([target, *related], now=now).requests
    view = next((v for v in views if v.envelope.id == target.id), None)
    if view is None:
        raise _bad(BadCommand.tr("Request {id} is no longer current.", id=sid), lang)
    if view.status is RequestStatus.RESOLVED:
        raise _bad(BadCommand.tr("Request {id} is already closed.", id=sid), lang)
    return view


def _from_handset(env: Envelope, node: int) -> bool:
    via = via_handset(env)
    return via is not None and via.node == node


def draft_from_command(
    cmd: HandsetCommand,
    *,
    handset_node: int,
    handset_name: str | None = None,
    witness: bytes,
    now: int,
    target: Envelope | None = None,
    related: Iterable[Envelope] = (),
    place: str = "",
    point: Point | None = None,
) -> Draft:
    """The message a node that heard ``cmd`` from the handset ``handset_node`` signs with its
    own key ``witness``, naming the handset in ``via`` (SPEC.md 7.1).

    - SOS/AIDE: a help request; ``place`` and ``point`` are where the node believes the
      handset is (its last position report), if it knows.
    - OK: a check-in about the holder, whose household is named by the node id
      (``!a1b2c3d4``), never the witness's own; OK POUR: about the person named.
    - PRIS and FAIT: ``target`` is the envelope whose short id the command names (None if
      the node has none) and ``related`` the messages citing it and those citing them, as
      for :func:`protocol.state.may_resolve`. A handset may close only a request it made or
      took through this same witness: only then does the witness's resolution count.

    Raises :class:`BadCommand` (send its ``reply``) when the command cannot be carried out,
    :class:`UsageError` for the caller's mistakes (a help command, a bad node number)."""
    via = _handset(handset_node, handset_name)
    if type(witness) is not bytes or len(witness) != 32:
        raise UsageError("the witness is the 32-byte public key of the node that heard it")
    if isinstance(cmd, ShowHelp):
        raise UsageError("a help command has no message: send help_text() back")
    if isinstance(cmd, RequestHelp | ReportSafe):
        try:
            return _new_message(cmd, via, place, point)
        except InvalidMessage as exc:  # a command built by the caller, not parsed
            raise UsageError(f"cannot draft from {cmd!r}: {exc}") from None
    others = list(related)
    request = _request_view(cmd, target, others, now).envelope
    if isinstance(cmd, TakeRequest):
        claim = Claim(eta_minutes=cmd.eta_minutes, text=cmd.text, via=via)
        lifetime = lifetime_to_outlive(request, Kind.CLAIM, now=now)
        return Draft(Kind.CLAIM, claim, (request.id,), lifetime)
    _check_may_close(cmd, request, others, witness=witness, node=handset_node)
    resolution = Resolution(text=cmd.text, via=via)
    lifetime = lifetime_to_outlive(request, Kind.RESOLUTION, now=now)
    return Draft(Kind.RESOLUTION, resolution, (request.id,), lifetime)


def _new_message(
    cmd: RequestHelp | ReportSafe, via: Handset, place: str, point: Point | None
) -> Draft:
    if isinstance(cmd, RequestHelp):
        request = HelpRequest(
            need=cmd.need,
            urgency=cmd.urgency,
            people=cmd.people,
            place=_cut(_clean(place), SHORT),
            point=point,
            text=cmd.text,
            via=via,
        )
        return Draft(Kind.HELP_REQUEST, request, (), None)
    # The holder's own household is named by the handset's node id: a check-in by the witness
    # without a subject would report on the witness's household.
    checkin = CheckIn(
        status=CheckInStatus.SAFE, subject_name=cmd.name or str(via), text=cmd.text, via=via
    )
    return Draft(Kind.CHECKIN, checkin, (), None)


def _check_may_close(
    cmd: CloseRequest,
    request: Envelope,
    related: Sequence[Envelope],
    *,
    witness: bytes,
    node: int,
) -> None:
    """A handset closes only a request it made or took through this witness: the witness's
    resolution then counts (it is the requester or a claimant), and a stranger's handset
    cannot close the witness household's own requests."""
    withdrawn = {r.refs[0] for r in related if r.kind is Kind.RETRACTION and r.author == witness}
    claims = [
        c
        for c in related
        if c.kind is Kind.CLAIM and c.refs[0] == request.id and c.id not in withdrawn
    ]
    if request.author == witness and _from_handset(request, node):
        return
    if any(c.author == witness and _from_handset(c, node) for c in claims):
        return
    if _from_handset(request, node) or any(_from_handset(c, node) for c in claims):
        raise _bad(
            BadCommand.tr(
                "This node did not hear your request or your TAKE for {id}: send DONE where"
                " you sent them.",
                id=cmd.short_id,
            ),
            cmd.lang,
        )
    raise _bad(
        BadCommand.tr(
            "Only whoever made or took {id} can close it: send TAKE {id} first.",
            id=cmd.short_id,
        ),
        cmd.lang,
    )
