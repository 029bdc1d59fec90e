"""French and English text: enum labels, parsing them back, tr() and its French catalogue."""

from __future__ import annotations

import ast
import enum
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import errors, kinds
from protocol.i18n import (
    ENUMS,
    LANGUAGES,
    enum_title,
    error_text,
    label,
    normalise_language,
    parse_label,
    tr,
)
from protocol.i18n_fr import EXTRA_MSGIDS, FR

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("node", "tui", "radio", "protocol")
MAX_LABEL_BYTES = 32  # a table column; a few of them in a 200-byte handset text

ALL_ENUMS = [
    kinds.Kind,
    kinds.Severity,
    kinds.Urgency,
    kinds.RequestUrgency,
    kinds.Certainty,
    kinds.Category,
    kinds.AlertOrigin,
    kinds.Need,
    kinds.Outcome,
    kinds.CheckInStatus,
    kinds.IncidentType,
    kinds.ResourceType,
    kinds.TipType,
    kinds.Role,
    kinds.Verdict,
    kinds.RevokeReason,
]
MEMBERS = [member for enum_cls in ALL_ENUMS for member in enum_cls]


def _id(value: object) -> str:
    return f"{type(value).__name__}.{value.name}" if isinstance(value, enum.Enum) else str(value)


# --- Labels ---------------------------------------------------------------------------------


def test_every_enum_of_kinds_has_labels() -> None:
    in_kinds = {
        obj
        for obj in vars(kinds).values()
        if isinstance(obj, type) and issubclass(obj, enum.IntEnum) and obj is not enum.IntEnum
    }
    assert in_kinds == set(ALL_ENUMS) == set(ENUMS)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("member", MEMBERS, ids=_id)
def test_label_is_short_and_clean(member: enum.IntEnum, lang: str) -> None:
    text = label(member, lang)
    assert text and text == text.strip() and "  " not in text
    assert len(text.encode()) <= MAX_LABEL_BYTES
    assert text.isprintable()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("enum_cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_labels_are_unique_within_an_enum(enum_cls: type[enum.IntEnum], lang: str) -> None:
    labels = [label(member, lang).casefold() for member in enum_cls]
    assert len(set(labels)) == len(labels)
    assert enum_title(enum_cls, lang)


@pytest.mark.parametrize(
    ("member", "english", "french"),
    [
        (kinds.Need.POWER, "power / charging", "électricité / recharge"),
        (kinds.CheckInStatus.SAFE, "safe", "en sécurité"),
        (kinds.CheckInStatus.SHELTERING, "sheltering in place", "mise à l'abri"),
        (kinds.Kind.HELP_REQUEST, "help request", "demande d'aide"),
        (kinds.Severity.EXTREME, "extreme", "extrême"),
        (kinds.TipType.DRILL, "drill (exercise)", "exercice"),
        (kinds.IncidentType.GAS_LEAK, "gas leak", "fuite de gaz"),
        (
            kinds.ResourceType.WATER_DISTRIBUTION,
            "water distribution",
            "point de distribution d'eau",
        ),
    ],
    ids=_id,
)
def test_some_labels(member: enum.IntEnum, english: str, french: str) -> None:
    assert label(member, "en") == english
    assert label(member, "fr") == french
    assert label(member, "fr_FR.UTF-8") == french
    assert label(member, "de") == english


def test_label_of_an_unknown_enum_falls_back_to_its_name() -> None:
    class Colour(enum.IntEnum):
        DARK_RED = 1

    assert label(Colour.DARK_RED, "fr") == "dark red"
    assert enum_title(Colour, "en") == "colour"


# --- parse_label ----------------------------------------------------------------------------


@pytest.mark.parametrize("member", MEMBERS, ids=_id)
def test_parse_label_round_trips_labels_names_and_numbers(member: enum.IntEnum) -> None:
    enum_cls = type(member)
    spellings = [
        label(member, "en"),
        label(member, "fr"),
        label(member, "fr").upper(),
        member.name,
        member.name.lower(),
        member.name.lower().replace("_", "-"),
        str(member.value),
        f"  {member.value} ",
    ]
    for text in spellings:
        for lang in (None, *LANGUAGES):
            assert parse_label(enum_cls, text, lang) is member, (text, lang)


@pytest.mark.parametrize(
    ("enum_cls", "text", "member"),
    [
        (kinds.Need, "check-on-person", kinds.Need.CHECK_ON_PERSON),
        (kinds.Need, "Check_On_Person", kinds.Need.CHECK_ON_PERSON),
        (kinds.Need, "electricite / recharge", kinds.Need.POWER),  # no accents on the keyboard
        (kinds.Need, "Électricité  /  Recharge", kinds.Need.POWER),
        (kinds.Need, "passer voir quelqu’un", kinds.Need.CHECK_ON_PERSON),  # typographic '
        (kinds.Need, "four-by-four", kinds.Need.FOUR_BY_FOUR),
        (kinds.CheckInStatus, "en securite", kinds.CheckInStatus.SAFE),
        (kinds.IncidentType, "Route coupée", kinds.IncidentType.ROAD_BLOCKED),
        (kinds.Severity, "4", kinds.Severity.EXTREME),
    ],
)
def test_parse_label_is_forgiving(enum_cls: type[enum.IntEnum], text: str, member: object) -> None:
    assert parse_label(enum_cls, text) is member


@pytest.mark.parametrize("text", ["", "   ", "teleport", "99", "-1", "1.0", "eau potable"])
def test_parse_label_rejects_with_the_accepted_values(text: str) -> None:
    with pytest.raises(errors.UsageError) as english:
        parse_label(kinds.Need, text)
    assert "power / charging" in str(english.value)
    assert "need" in str(english.value)
    with pytest.raises(errors.UsageError) as french:
        parse_label(kinds.Need, text, "fr")
    message = str(french.value)
    assert "électricité / recharge" in message and "besoin" in message
    assert f"« {text} »" in message
    assert "power / charging" not in message


def test_parse_label_of_an_enum_without_labels_accepts_names_and_numbers() -> None:
    class Colour(enum.IntEnum):
        DARK_RED = 1

    assert parse_label(Colour, "dark-red") is Colour.DARK_RED
    assert parse_label(Colour, "1") is Colour.DARK_RED
    with pytest.raises(errors.UsageError, match="dark red"):
        parse_label(Colour, "blue")


# --- normalise_language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        ("fr_FR.UTF-8", "fr"),
        ("fr_BE@euro", "fr"),
        ("fr-CA", "fr"),
        (" fr ", "fr"),
        ("français", "fr"),
        ("French", "fr"),
        ("en", "en"),
        ("en-GB", "en"),
        ("en_US.UTF-8", "en"),
        ("de_DE.UTF-8", "en"),
        ("C", "en"),
        ("POSIX", "en"),
        ("C.UTF-8", "en"),
        ("fry", "en"),  # Frisian, not French
        ("", "en"),
        (None, "en"),
    ],
)
def test_normalise_language(value: str | None, expected: str) -> None:
    assert normalise_language(value) == expected


def test_languages() -> None:
    assert LANGUAGES == ("fr", "en")
    assert all(normalise_language(lang) == lang for lang in LANGUAGES)


# --- tr -------------------------------------------------------------------------------------


def test_tr_formats_english_and_french() -> None:
    msgid = "{prefix}: {detail}"
    assert tr(msgid, "en", prefix="a", detail="b") == "a: b"
    assert tr(msgid, "fr", prefix="a", detail="b") == "a : b"
    assert tr(msgid, "fr_FR.UTF-8", prefix="a", detail="b") == "a : b"
    assert tr(msgid, "es", prefix="a", detail="b") == "a: b"


def test_tr_falls_back_to_english_when_french_is_missing() -> None:
    assert tr("no such message, {n} times", "fr", n=3) == "no such message, 3 times"


def test_tr_falls_back_to_english_when_french_is_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    import protocol.i18n

    broken = {**FR, "hello {name}": "bonjour {nom}"}
    monkeypatch.setattr(protocol.i18n, "FR", broken)
    assert tr("hello {name}", "fr", name="Zoé") == "hello Zoé"


def test_tr_with_a_missing_parameter_is_a_bug() -> None:
    with pytest.raises(KeyError):
        tr("hello {name}", "en")


# --- error_text -----------------------------------------------------------------------------


def test_error_text() -> None:
    exc = errors.BadSignature("help_request from 3f2a…")
    assert error_text(exc, "en") == "forged or corrupted signature: help_request from 3f2a…"
    assert error_text(exc, "fr") == "signature falsifiée ou corrompue : help_request from 3f2a…"


def test_error_text_without_detail_is_the_prefix() -> None:
    assert error_text(errors.ExpiredMessage(), "fr") == "message expiré"
    assert error_text(errors.ExpiredMessage(), "en") == "expired message"


def _error_classes(root: type[errors.EntraideError]) -> Iterator[type[errors.EntraideError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _error_classes(sub)


PROTOCOL_ERRORS: list[type[errors.EntraideError]] = sorted(
    {c for c in _error_classes(errors.EntraideError) if c.__module__ == errors.__name__},
    key=lambda c: c.__name__,
)


def test_all_protocol_errors_are_found() -> None:
    assert {errors.BadSignature, errors.UsageError} < set(PROTOCOL_ERRORS)
    assert len(PROTOCOL_ERRORS) == len(errors.__all__)


@pytest.mark.parametrize("cls", PROTOCOL_ERRORS, ids=lambda c: c.__name__)
def test_every_protocol_error_class_has_its_own_prefix(cls: type[errors.EntraideError]) -> None:
    english, french = error_text(cls(), "en"), error_text(cls(), "fr")
    assert english and french and english != french
    if cls is not errors.EntraideError:
        parent = cls.__mro__[1]
        assert isinstance(parent, type) and issubclass(parent, errors.EntraideError)
        assert english != error_text(parent(), "en")
        assert french != error_text(parent(), "fr")


def test_error_subclass_elsewhere_uses_its_ancestors_prefix() -> None:
    class KeyFileGone(errors.LocalError):
        pass

    assert error_text(KeyFileGone("x"), "en") == error_text(errors.LocalError("x"), "en")


# --- The French catalogue -------------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    """The root names of the ``{fields}`` of a str.format string (nested ones included)."""
    names: set[str] = set()
    for _, field, spec, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(field.split(".", 1)[0].split("[", 1)[0])
        if spec:
            names |= _placeholders(spec)
    return names


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _tr_aliases(tree: ast.AST) -> set[str]:
    """Names of helpers that only pass their first parameter on to tr(), such as
    ``def t(msgid, **params): return tr(msgid, lang, **params)``: their calls count too."""
    aliases = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
            continue
        last = node.body[-1]
        if (
            isinstance(last, ast.Return)
            and isinstance(last.value, ast.Call)
            and _call_name(last.value) == "tr"
            and last.value.args
            and isinstance(last.value.args[0], ast.Name)
            and last.value.args[0].id == node.args.args[0].arg
        ):
            aliases.add(node.name)
    return aliases


def _tr_calls() -> Iterator[tuple[str, int, str, ast.Call]]:
    """(file, line, msgid, call) for every ``tr("literal", ...)`` (also ``i18n.tr(...)`` and
    calls of a file's helpers that wrap tr, see :func:`_tr_aliases`)."""
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            names = {"tr"} | _tr_aliases(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                first = node.args[0]
                if (
                    _call_name(node) in names
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    yield str(path.relative_to(REPO)), node.lineno, first.value, node


TR_CALLS = list(_tr_calls())
USED_MSGIDS = {msgid for _, _, msgid, _ in TR_CALLS}


def test_the_scan_finds_the_calls_of_this_module() -> None:
    assert "{prefix}: {detail}" in USED_MSGIDS


def test_the_scan_follows_helpers_that_wrap_tr() -> None:
    source = """
def build(lang):
    def t(msgid, **params):
        return tr(msgid, lang, **params)
    t("hello {name}", name="x")
    tr(other, lang)
"""
    assert _tr_aliases(ast.parse(source)) == {"t"}


def test_every_msgid_has_a_french_entry_with_the_same_placeholders() -> None:
    problems = []
    for where, line, msgid, _ in TR_CALLS:
        french = FR.get(msgid)
        if french is None:
            problems.append(f"{where}:{line}: no French for {msgid!r}")
        elif _placeholders(french) != _placeholders(msgid):
            problems.append(
                f"{where}:{line}: placeholders differ: {msgid!r} has"
                f" {sorted(_placeholders(msgid))}, French has {sorted(_placeholders(french))}"
            )
    for msgid in EXTRA_MSGIDS:
        if msgid not in FR:
            problems.append(f"EXTRA_MSGIDS: no French for {msgid!r}")
    assert not problems, "\n".join(problems)


def test_every_call_passes_the_placeholders_of_its_msgid() -> None:
    problems = []
    for where, line, msgid, call in TR_CALLS:
        if any(kw.arg is None for kw in call.keywords):
            continue  # tr(msgid, lang, **params): not checkable here
        missing = _placeholders(msgid) - {kw.arg for kw in call.keywords if kw.arg}
        if missing:
            problems.append(f"{where}:{line}: {msgid!r} lacks {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_no_stale_french_entries() -> None:
    stale = set(FR) - USED_MSGIDS - set(EXTRA_MSGIDS)
    assert not stale, f"French entries no code uses (remove them): {sorted(stale)}"


def test_french_entries_are_clean() -> None:
    for msgid, french in FR.items():
        # Surrounding white space only where the English has the same (argparse's "usage: ").
        trailing = msgid[len(msgid.rstrip()) :]
        assert french and french.endswith(trailing), msgid
        assert french.rstrip() + trailing == french and french == french.lstrip(), msgid
        assert "\u00a0" not in french and "\u202f" not in french, msgid  # plain spaces only


def test_errors_built_with_tr_are_translated_whole() -> None:
    exc = errors.LocalError.tr("cannot read {path}: {reason}", path="/x", reason="denied")
    assert str(exc) == "cannot read /x: denied"
    assert exc.msgid == "cannot read {path}: {reason}" and dict(exc.params)["path"] == "/x"
    assert "impossible de lire /x : denied" in error_text(exc, "fr")
    assert error_text(exc, "en").endswith("cannot read /x: denied")
