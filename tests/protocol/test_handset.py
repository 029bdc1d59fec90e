"""Plain Meshtastic handsets: rendered texts, commands, drafts signed by a witness."""

from __future__ import annotations

import unicodedata
from typing import Any

import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.envelope import Envelope, Policy, accept, seal
from protocol.errors import EntraideError, UsageError
from protocol.handset import (
    MAX_CANNED_BYTES,
    MAX_COMMAND_BYTES,
    MAX_TEXT_BYTES,
    NEED_WORDS,
    BadCommand,
    CloseRequest,
    Draft,
    HandsetCommand,
    ReportSafe,
    RequestHelp,
    ShowHelp,
    TakeRequest,
    acknowledgement,
    canned_messages,
    draft_from_command,
    help_text,
    is_urgent,
    parse_command,
    render_for_handset,
)
from protocol.i18n import LANGUAGES
from protocol.kinds import (
    Alert,
    AlertOrigin,
    CheckIn,
    CheckInStatus,
    Claim,
    Comment,
    Handset,
    HelpRequest,
    Incident,
    IncidentType,
    Kind,
    Need,
    OfficialSource,
    Point,
    RequestUrgency,
    Resolution,
    ResourcePoint,
    ResourceType,
    Retraction,
    Severity,
    Tip,
    Urgency,
)
from protocol.state import RequestStatus, derive, via_handset

WITNESS = nacl.signing.SigningKey(bytes(range(32)))
OTHER_NODE = nacl.signing.SigningKey(bytes(range(32, 64)))
BRIDGE = nacl.signing.SigningKey(bytes(range(64, 96)))
ZONE = bytes.fromhex("01020304")
POLICY = Policy(bridge_keys=frozenset({bytes(BRIDGE.verify_key)}), zone=ZONE)
T0 = 1_780_000_000
NODE = 0xA1B2C3D4
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sealed(body: Any, *, key: nacl.signing.SigningKey = WITNESS, created: int = T0, **kw: Any):
    return seal(body, signing_key=key, created=created, zone=ZONE, **kw)


def sign_draft(draft: Draft, *, key: nacl.signing.SigningKey = WITNESS, now: int) -> Envelope:
    """What the node does with a draft: seal it with its own key, and check it as received."""
    assert draft.kind is draft.body.KIND
    env = sealed(draft.body, key=key, created=now, refs=draft.refs, lifetime=draft.lifetime)
    return accept(env.raw, now=now, policy=POLICY)


def draft(text: str, *, now: int = T0, key: nacl.signing.SigningKey = WITNESS, **kw: Any) -> Draft:
    return draft_from_command(
        parse_command(text),
        handset_node=kw.pop("node", NODE),
        witness=bytes(key.verify_key),
        now=now,
        **kw,
    )


# --- commands -------------------------------------------------------------------------------

COMMANDS: list[tuple[str, HandsetCommand]] = [
    # SOS: a life at risk; the need is optional
    ("SOS", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL)),
    ("sos !", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL)),
    ("\x07SOS", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL)),  # "send bell" handsets
    ("SOS soins 2", RequestHelp(Need.MEDICAL, RequestUrgency.CRITICAL, 2)),
    ("SOS medical 2", RequestHelp(Need.MEDICAL, RequestUrgency.CRITICAL, 2)),
    ("SOS feu au 3e", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL, text="feu au 3e")),
    ("SOS 4", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL, 4)),
    ("SOS generator", RequestHelp(Need.OTHER, RequestUrgency.CRITICAL, text="generator")),
    # AIDE / HELP: a need, then an optional count and text
    ("AIDE eau 3", RequestHelp(Need.WATER, RequestUrgency.NORMAL, 3, lang="fr")),
    ("HELP water 3", RequestHelp(Need.WATER, RequestUrgency.NORMAL, 3, lang="en")),
    ("aide EAU", RequestHelp(Need.WATER, RequestUrgency.NORMAL, lang="fr")),
    ("Aide Médicaments", RequestHelp(Need.MEDICATION, RequestUrgency.NORMAL, lang="fr")),
    ("AIDE MEDICAMENTS", RequestHelp(Need.MEDICATION, RequestUrgency.NORMAL, lang="fr")),
    ("aide électricité", RequestHelp(Need.POWER, RequestUrgency.NORMAL, lang="fr")),
    ("help medication", RequestHelp(Need.MEDICATION, RequestUrgency.NORMAL, lang="en")),
    ("AIDE soins médicaux 2", RequestHelp(Need.MEDICAL, RequestUrgency.NORMAL, 2, lang="fr")),
    ("help check on someone", RequestHelp(Need.CHECK_ON_PERSON, RequestUrgency.NORMAL, lang="en")),
    ("AIDE visite", RequestHelp(Need.CHECK_ON_PERSON, RequestUrgency.NORMAL, lang="fr")),
    (
        "AIDE eau 3 pers. bébé de 6 mois",
        RequestHelp(Need.WATER, RequestUrgency.NORMAL, 3, "bébé de 6 mois", "fr"),
    ),
    ("AIDE nourriture 4p", RequestHelp(Need.FOOD, RequestUrgency.NORMAL, 4, lang="fr")),
    (
        "HELP food 2 people no fridge",
        RequestHelp(Need.FOOD, RequestUrgency.NORMAL, 2, "no fridge", "en"),
    ),
    (  # a street number is not a count of people
        "AIDE eau 12 rue des Lilas",
        RequestHelp(Need.WATER, RequestUrgency.NORMAL, text="12 rue des Lilas", lang="fr"),
    ),
    ("AIDE  abri\t2", RequestHelp(Need.SHELTER, RequestUrgency.NORMAL, 2, lang="fr")),
    # OK / ÇA VA / SAFE: the holder is safe; POUR / FOR: someone visited is
    ("OK", ReportSafe()),
    ("ok.", ReportSafe()),
    ("ÇA VA", ReportSafe(lang="fr")),
    ("ça va !", ReportSafe(lang="fr")),
    ("CA VA", ReportSafe(lang="fr")),
    ("Çava", ReportSafe(lang="fr")),
    ("SAFE", ReportSafe(lang="en")),
    ("OK tous bien au 12", ReportSafe(text="tous bien au 12")),
    ("OK POUR Mme Martin", ReportSafe(name="Mme Martin", lang="fr")),
    ("ok pour Mme Martin, 12 rue des Lilas", ReportSafe("Mme Martin, 12 rue des Lilas", lang="fr")),
    ("OK FOR Mr Smith", ReportSafe(name="Mr Smith", lang="en")),
    ("ÇA VA POUR Zoé", ReportSafe(name="Zoé", lang="fr")),
    ("safe for Mrs Jones", ReportSafe(name="Mrs Jones", lang="en")),
    # PRIS / TAKE and FAIT / DONE: a request's short id
    ("PRIS 3f2a19c0", TakeRequest("3f2a19c0", lang="fr")),
    ("pris #3F2A19C0", TakeRequest("3f2a19c0", lang="fr")),
    ("TAKE 3f2a19c0", TakeRequest("3f2a19c0", lang="en")),
    ("take 3f2a19c0 20min on my way", TakeRequest("3f2a19c0", 20, "on my way", "en")),
    ("PRIS 3f2a19c0 2h", TakeRequest("3f2a19c0", 120, lang="fr")),
    ("PRIS 3f2a19c0 j'arrive", TakeRequest("3f2a19c0", text="j'arrive", lang="fr")),
    ("FAIT 3f2a19c0", CloseRequest("3f2a19c0", lang="fr")),
    ("Fait 3f2a19c0 eau livrée", CloseRequest("3f2a19c0", "eau livrée", "fr")),
    ("DONE 3f2a19c0", CloseRequest("3f2a19c0", lang="en")),
    # the list of commands
    ("?", ShowHelp()),
    ("AIDE", ShowHelp("fr")),
    ("aide ?", ShowHelp("fr")),
    ("HELP", ShowHelp("en")),
    ("Help?", ShowHelp("en")),
    ("menu", ShowHelp()),
]


@pytest.mark.parametrize(("text", "expected"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_commands(text: str, expected: HandsetCommand) -> None:
    assert parse_command(text) == expected


def test_every_kind_of_command_exists_in_both_languages() -> None:
    for french, english in [
        ("AIDE eau", "HELP water"),
        ("ÇA VA", "SAFE"),
        ("OK POUR X", "OK FOR X"),
        ("PRIS 3f2a19c0", "TAKE 3f2a19c0"),
        ("FAIT 3f2a19c0", "DONE 3f2a19c0"),
        ("AIDE", "HELP"),
    ]:
        fr, en = parse_command(french), parse_command(english)
        assert type(fr) is type(en)
        assert (fr.lang, en.lang) == ("fr", "en")


@pytest.mark.parametrize("need", list(NEED_WORDS), ids=lambda n: n.name.lower())
def test_every_need_word_parses_in_both_languages(need: Need) -> None:
    english, french = NEED_WORDS[need]
    for verb, words in (("HELP", english), ("AIDE", french)):
        for word in words:
            for variant in (word, word.upper(), _strip_accents(word)):
                command = parse_command(f"{verb} {variant} 2")
                assert isinstance(command, RequestHelp)
                assert (command.need, command.people) == (need, 2), variant


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


BAD: list[tuple[str, str]] = [
    ("", "Empty message."),
    ("   \t\n ", "Empty message."),
    ("\x07", "Empty message."),
    ("bonjour", "Unknown command."),
    ("AIDE 3", "Say what is needed."),
    ("AIDE truc", 'Unknown need "truc".'),
    ("HELP generator", '"generator" can be offered, not asked for.'),
    ("AIDE groupe électrogène", '"groupe électrogène" can be offered, not asked for.'),
    ("AIDE eau 0", "The number of people is 1 to 999."),
    ("AIDE eau 1000", "The number of people is 1 to 999."),
    ("OK POUR", "Give the name: OK FOR Mrs Martin"),
    ("OK FOR !!", "Give the name: OK FOR Mrs Martin"),
    ("OK POUR \u2800", "Give the name: OK FOR Mrs Martin"),  # a blank Braille pattern
    ("OK POUR " + "é" * 25, "Name too long: 50 bytes, at most 48."),
    ("OK " + "x" * 141, "Text too long: 141 bytes, at most 140."),
    ("PRIS", "Give the request's number: PRIS 3f2a19c0"),
    ("TAKE 3f2a19c", '"3f2a19c" is not a request number: 8 characters 0-9 and a-f, like 3f2a19c0.'),
    (
        "FAIT zzzzzzzz",
        '"zzzzzzzz" is not a request number: 8 characters 0-9 and a-f, like 3f2a19c0.',
    ),
    ("PRIS 3f2a19c0 200h", "An arrival time is at most 7 days away."),
    ("SOS\x00", "Message refused: it contains a control character."),
    ("OK\x1b[2J", "Message refused: it contains a control character."),
    ("OK POUR Mme\u202eMartin", "Message refused: it contains a control character."),
    ("OK \x9b2J", "Message refused: it contains a control character."),  # C1 CSI
    ("SOS \ud800", "Message refused: it contains a control character."),
    ("x" * (MAX_COMMAND_BYTES + 1), "Message too long: 233 bytes, at most 232."),
    ("é" * 10_000, "Message too long: 20000 bytes, at most 232."),
]


@pytest.mark.parametrize(("text", "english"), BAD, ids=[repr(b[0][:20]) for b in BAD])
def test_bad_commands_say_what_is_wrong(text: str, english: str) -> None:
    with pytest.raises(BadCommand) as info:
        parse_command(text)
    exc = info.value
    assert str(exc) == english
    assert exc.code == "bad-command" and exc.fault == "peer"
    for lang in LANGUAGES:
        reply = exc.reply(lang)
        assert_handset_text(reply)
        assert not reply.startswith("\x07")
    assert exc.reply("en").startswith(english)
    assert exc.reply("fr") != exc.reply("en")


def test_an_unknown_command_answers_with_the_commands() -> None:
    with pytest.raises(BadCommand) as info:
        parse_command("bonjour")
    assert "AIDE" in info.value.reply("fr") and "PRIS" in info.value.reply("fr")
    assert "HELP" in info.value.reply("en") and "TAKE" in info.value.reply("en")


def test_a_bad_need_answers_with_the_needs() -> None:
    with pytest.raises(BadCommand) as info:
        parse_command("AIDE truc")
    assert info.value.lang == "fr"
    assert "médicaments" in info.value.reply("fr")
    assert "medication" in info.value.reply("en")


def test_the_error_tells_the_language_of_the_command() -> None:
    for text, lang in [("PRIS", "fr"), ("TAKE", "en"), ("bonjour", None), ("OK FOR", "en")]:
        with pytest.raises(BadCommand) as info:
            parse_command(text)
        assert info.value.lang == lang


def test_a_command_is_text() -> None:
    with pytest.raises(UsageError):
        parse_command(b"SOS")  # type: ignore[arg-type]


KEYWORDS = ["SOS", "AIDE", "HELP", "OK", "ÇA VA", "SAFE", "OK POUR", "OK FOR", "PRIS", "TAKE"]
KEYWORDS += ["FAIT", "DONE", "?", "AIDE eau", "HELP water", "PRIS 3f2a19c0", "DONE 3f2a19c0"]


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda k, rest: f"{k} {rest}",
            st.sampled_from(KEYWORDS),
            st.text(st.characters(codec="utf-8"), max_size=120),
        ),
        st.builds(
            lambda k, n, rest: f"{k} {n} {rest}",
            st.sampled_from(KEYWORDS),
            st.integers(-5, 100_000),
            st.text(max_size=40),
        ),
    )
)
def test_any_text_is_a_command_or_a_bad_command(text: str) -> None:
    try:
        command = parse_command(text)
    except BadCommand as exc:
        for lang in LANGUAGES:
            assert_handset_text(exc.reply(lang))
        return
    assert isinstance(command, RequestHelp | ReportSafe | TakeRequest | CloseRequest | ShowHelp)
    if isinstance(command, ShowHelp):
        return
    # Whatever parses can be drafted (given a request to take or close) and sealed.
    target = sealed(HelpRequest(need=Need.WATER, via=Handset(node=NODE)))
    if isinstance(command, TakeRequest | CloseRequest):
        target = _with_short_id(command.short_id)
    try:
        result = draft_from_command(
            command, handset_node=NODE, witness=bytes(WITNESS.verify_key), now=T0, target=target
        )
    except BadCommand:
        return
    sign_draft(result, now=T0)


def _with_short_id(wanted: str) -> Envelope:
    """A request of the witness, typed on the handset, whose short id is ``wanted`` (the test
    only needs the attribute to match: the envelope is rebuilt with that id)."""
    env = sealed(HelpRequest(need=Need.WATER, via=Handset(node=NODE)))
    fake_id = bytes.fromhex(wanted) + env.id[4:]
    return Envelope(**{**{f: getattr(env, f) for f in env.__slots__}, "id": fake_id})


# --- text a handset shows ---------------------------------------------------------------------


def assert_handset_text(text: str, *, urgent: bool = False) -> None:
    """At most 200 bytes; no control or format character but a leading BEL when urgent."""
    assert len(text.encode("utf-8")) <= MAX_TEXT_BYTES, text
    assert text.startswith("\x07!! ") == urgent, text
    shown = text[1:] if urgent else text
    bad = [c for c in shown if unicodedata.category(c)[0] == "C" or c in "\u2028\u2029"]
    assert not bad, (bad, text)
    assert shown == shown.strip() and "  " not in shown
    assert "\u2026" not in shown  # ellipses are ASCII: not every handset screen has "…"


OFFICIAL = OfficialSource(
    source="vigicrues", sender="vigicrues@example.fr", identifier="FR-1", sent=T0, digest=bytes(32)
)


def official(**kw: Any) -> Envelope:
    return sealed(Alert(origin=AlertOrigin.OFFICIAL, official=OFFICIAL, **kw), key=BRIDGE)


SAMPLES = {
    "official-extreme": official(
        headline="Crue de la Loire : évacuez les quais",
        severity=Severity.EXTREME,
        urgency=Urgency.IMMEDIATE,
        area="Tours centre, quais de Loire",
        instruction="Montez dans les étages.\nNe prenez pas votre véhicule.",
    ),
    "community-exercise": sealed(
        Alert(
            headline="Exercice inondation – rue des Lilas",
            severity=Severity.SEVERE,
            exercise=True,
            area="Rue des Lilas",
        )
    ),
    "all-clear": official(headline="Fin de la crue", all_clear=True),
    "sos-via-handset": sealed(
        HelpRequest(
            need=Need.MEDICAL,
            urgency=RequestUrgency.CRITICAL,
            people=2,
            vulnerable=True,
            place="12 rue des Lilas",
            text="Mon voisin respire mal, il a 84 ans. Porte B au 2e étage, code 4521.",
            via=Handset(node=NODE, name="Marie"),
        )
    ),
    "request-high": sealed(
        HelpRequest(
            need=Need.WATER,
            urgency=RequestUrgency.HIGH,
            people=3,
            place="Rés. Les Tilleuls",
            text="Plus d’eau potable depuis hier…",
        )
    ),
    "water-point": sealed(
        ResourcePoint(
            type=ResourceType.WATER_DISTRIBUTION,
            name="Gymnase Jean Moulin",
            hours="8h–20h",
            text="Apportez vos bidons",
        )
    ),
    "shelter-closed": sealed(
        ResourcePoint(type=ResourceType.SHELTER, name="Salle des fêtes", open=False)
    ),
    "gas-leak": sealed(
        Incident(type=IncidentType.GAS_LEAK, severity=Severity.SEVERE, place="quai de Seine")
    ),
}
URGENT = {"official-extreme", "sos-via-handset"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(SAMPLES))
def test_rendered_samples(name: str, lang: str) -> None:
    env = SAMPLES[name]
    text = render_for_handset(env, lang, now=T0 + 300)
    assert_handset_text(text, urgent=name in URGENT)
    assert is_urgent(env) == (name in URGENT)
    assert ("il y a 5 min" if lang == "fr" else "5 min ago") in text


def test_rendered_texts_read_well() -> None:
    fr = {n: render_for_handset(e, "fr", now=T0 + 300) for n, e in SAMPLES.items()}
    en = {n: render_for_handset(e, "en", now=T0 + 300) for n, e in SAMPLES.items()}
    sos_id = SAMPLES["sos-via-handset"].short_id
    assert fr["official-extreme"].startswith("\x07!! ALERTE OFFICIELLE (extrême) : Crue de la")
    assert en["official-extreme"].startswith("\x07!! OFFICIAL ALERT (extreme): Crue de la")
    assert "Zone : Tours centre" in fr["official-extreme"]
    assert fr["community-exercise"].startswith("[EXERCICE] ALERTE CITOYENNE (grave) : ")
    assert en["community-exercise"].startswith("[EXERCISE] COMMUNITY ALERT (severe): ")
    assert "rue des Lilas" in fr["community-exercise"]  # "–" folded to "-"
    assert fr["all-clear"].startswith("FIN D'ALERTE OFFICIELLE : Fin de la crue")
    assert en["all-clear"].startswith("OFFICIAL ALL CLEAR: Fin de la crue")
    assert fr["sos-via-handset"].startswith(
        "\x07!! SOS, URGENCE VITALE : soins médicaux, 2 pers., personne vulnérable"
        " | 12 rue des Lilas | Mon voisin"
    )
    assert fr["sos-via-handset"].endswith(f" | il y a 5 min | Pour aider : PRIS {sos_id}")
    assert en["sos-via-handset"].endswith(f" | 5 min ago | To help: TAKE {sos_id}")
    assert fr["request-high"].startswith(
        "DEMANDE D'AIDE (élevée) : eau, 3 pers. | Rés. Les Tilleuls | Plus d'eau potable"
        " depuis hier... | "
    )
    assert fr["water-point"] == (
        "POINT DE DISTRIBUTION D'EAU : Gymnase Jean Moulin | Horaires : 8h-20h"
        " | Apportez vos bidons | il y a 5 min"
    )
    assert en["shelter-closed"] == "SHELTER (CLOSED): Salle des fêtes | 5 min ago"
    assert fr["gas-leak"] == "INCIDENT (grave) : fuite de gaz | quai de Seine | il y a 5 min"


def test_the_handset_a_request_came_from_is_shown_when_there_is_room() -> None:
    env = sealed(HelpRequest(need=Need.WATER, via=Handset(node=NODE)))
    assert "| via l'appareil !a1b2c3d4 |" in render_for_handset(env, "fr", now=T0)
    assert "| via handset !a1b2c3d4 |" in render_for_handset(env, "en", now=T0)


@pytest.mark.parametrize(
    ("seconds", "fr", "en"),
    [
        (-600, "", ""),  # dated in the future: no age
        (59, "", ""),
        (60, " | il y a 1 min", " | 1 min ago"),
        (3599, " | il y a 59 min", " | 59 min ago"),
        (3600, " | il y a 1 h", " | 1 h ago"),
        (48 * 3600 - 1, " | il y a 47 h", " | 47 h ago"),
        (3 * 86400, " | il y a 3 j", " | 3 d ago"),
    ],
)
def test_the_age_of_a_message(seconds: int, fr: str, en: str) -> None:
    env = SAMPLES["gas-leak"]
    assert render_for_handset(env, "fr", now=T0 + seconds).endswith("quai de Seine" + fr)
    assert render_for_handset(env, "en", now=T0 + seconds).endswith("quai de Seine" + en)


def test_only_urgent_messages_ring() -> None:
    def alert(**kw: Any) -> Envelope:
        return sealed(Alert(headline="Crue", **kw))

    assert is_urgent(alert(severity=Severity.SEVERE))
    assert is_urgent(alert(severity=Severity.EXTREME))
    assert is_urgent(alert(urgency=Urgency.IMMEDIATE))
    assert not is_urgent(alert(urgency=Urgency.IMMEDIATE, severity=Severity.MINOR))
    assert not is_urgent(alert(severity=Severity.MODERATE))
    assert not is_urgent(alert(severity=Severity.EXTREME, exercise=True))
    assert not is_urgent(alert(severity=Severity.EXTREME, all_clear=True))
    for urgency in RequestUrgency:
        env = sealed(HelpRequest(need=Need.WATER, urgency=urgency))
        assert is_urgent(env) == (urgency is RequestUrgency.CRITICAL)
        text = render_for_handset(env, "fr", now=T0)
        assert text.startswith("\x07") == is_urgent(env)
        assert text.count("\x07") == int(is_urgent(env))


def test_other_kinds_are_not_rendered() -> None:
    for body in (Tip(title="Eau"), CheckIn(status=CheckInStatus.SAFE)):
        with pytest.raises(UsageError):
            render_for_handset(sealed(body), "fr", now=T0)


TEXT_CHARS = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"))


def _clip(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")


def long_text(max_bytes: int) -> st.SearchStrategy[str]:
    alphabet = st.one_of(TEXT_CHARS, st.sampled_from("éèàçœ’«» –…\n"), st.sampled_from("ab "))
    return st.text(alphabet, min_size=1, max_size=max_bytes).map(
        lambda s: _clip(s.replace("\n", " "), max_bytes).strip() or "x"
    )


@SETTINGS
@given(
    headline=long_text(140),
    area=long_text(140),
    instruction=long_text(1000),
    severity=st.sampled_from(Severity),
    exercise=st.booleans(),
    all_clear=st.booleans(),
    is_official=st.booleans(),
    lang=st.sampled_from(LANGUAGES),
    age=st.integers(-3600, 30 * 86400),
)
def test_any_alert_fits(
    headline: str,
    area: str,
    instruction: str,
    severity: Severity,
    exercise: bool,
    all_clear: bool,
    is_official: bool,
    lang: str,
    age: int,
) -> None:
    body = Alert(
        headline=headline,
        area=area,
        instruction=instruction,
        severity=severity,
        exercise=exercise,
        all_clear=all_clear,
        origin=AlertOrigin.OFFICIAL if is_official else AlertOrigin.COMMUNITY,
        official=OFFICIAL if is_official else None,
    )
    env = sealed(body, key=BRIDGE)
    text = render_for_handset(env, lang, now=T0 + age)
    assert_handset_text(text, urgent=is_urgent(env))
    if exercise:
        assert text.startswith("[EXERCICE]" if lang == "fr" else "[EXERCISE]")


@SETTINGS
@given(
    need=st.sampled_from(sorted(NEED_WORDS)),
    urgency=st.sampled_from(RequestUrgency),
    people=st.integers(1, 999),
    vulnerable=st.booleans(),
    place=long_text(48),
    text=long_text(280),
    name=long_text(48),
    lang=st.sampled_from(LANGUAGES),
)
def test_any_request_fits_and_keeps_its_id(
    need: Need,
    urgency: RequestUrgency,
    people: int,
    vulnerable: bool,
    place: str,
    text: str,
    name: str,
    lang: str,
) -> None:
    body = HelpRequest(
        need=need,
        urgency=urgency,
        people=people,
        vulnerable=vulnerable,
        place=place,
        text=text,
        via=Handset(node=2**32 - 2, name=name),
    )
    env = sealed(body)
    rendered = render_for_handset(env, lang, now=T0 + 7200)
    assert_handset_text(rendered, urgent=urgency is RequestUrgency.CRITICAL)
    assert rendered.endswith(("PRIS " if lang == "fr" else "TAKE ") + env.short_id)


@SETTINGS
@given(name=long_text(48), hours=long_text(48), text=long_text(140), is_open=st.booleans())
def test_any_resource_point_fits(name: str, hours: str, text: str, is_open: bool) -> None:
    env = sealed(ResourcePoint(type=ResourceType.MEDICAL_POST, name=name, hours=hours, text=text))
    for lang in LANGUAGES:
        assert_handset_text(render_for_handset(env, lang, now=T0))


def test_a_cut_text_ends_on_a_whole_character_with_an_ellipsis() -> None:
    headline = "Crue de la Loire : montée rapide des eaux"
    env = sealed(Alert(headline=headline, area="é" * 70, severity=Severity.SEVERE))
    text = render_for_handset(env, "fr", now=T0)
    assert_handset_text(text, urgent=True)
    assert text.startswith(f"\x07!! ALERTE CITOYENNE (grave) : {headline} | Zone : éé")
    assert text.endswith("é...")
    # "q" and a combining acute (no precomposed form): never cut between the two, wherever
    # the limit falls
    for extra in range(3):
        env = sealed(Alert(headline=headline + "!" * extra, area="q\u0301" * 46))
        text = render_for_handset(env, "en", now=T0)
        assert_handset_text(text)
        assert text.endswith("q\u0301...")
    # a cut falls after a word when one ends near the limit
    env = sealed(Alert(headline="Crue", instruction="Montez aux étages " * 50))
    text = render_for_handset(env, "fr", now=T0)
    assert text.endswith(("Montez...", " aux...", " étages...")), text


# --- help and canned messages --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_text(lang: str) -> None:
    text = help_text(lang)
    assert_handset_text(text)
    assert not text.endswith("...")  # it fits whole
    for word in ("SOS", "OK", "?"):
        assert word in text
    assert ("PRIS" in text) == (lang == "fr") and ("TAKE" in text) == (lang == "en")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_canned_messages(lang: str) -> None:
    line = canned_messages(lang)
    assert len(line.encode("utf-8")) <= MAX_CANNED_BYTES
    entries = line.split("|")
    assert len(entries) == len(set(entries)) >= 10
    parsed = [parse_command(entry) for entry in entries]
    assert parsed[0] == RequestHelp(Need.OTHER, RequestUrgency.CRITICAL)
    assert ReportSafe() in parsed and ShowHelp() in parsed
    asked = {p.need for p in parsed if isinstance(p, RequestHelp)}
    assert asked == set(NEED_WORDS)  # every need: "other" by SOS
    for entry in entries:
        assert entry and entry == entry.strip() and entry.isprintable()
        assert all(ord(c) < 256 for c in entry)  # Latin-1: every handset screen draws it


def test_canned_lines_for_the_readme() -> None:
    assert canned_messages("fr") == (
        "SOS|AIDE eau|AIDE nourriture|AIDE soins|AIDE médicaments|AIDE évacuation|AIDE abri"
        "|AIDE électricité|AIDE transport|AIDE visite|OK|?"
    )
    assert canned_messages("en") == (
        "SOS|HELP water|HELP food|HELP medical|HELP medication|HELP evacuation|HELP shelter"
        "|HELP power|HELP transport|HELP visit|OK|?"
    )


# --- drafts: what the witness signs ----------------------------------------------------------


def board(*envs: Envelope, now: int = T0):
    return derive(envs, now=now)


def test_sos_becomes_a_critical_request_signed_by_the_witness() -> None:
    result = draft(
        "SOS soins 2 insuffisance respiratoire",
        handset_name="Marie",
        place="12 rue des Lilas",
        point=Point(4_575_812, 484_655),
    )
    assert result.kind is Kind.HELP_REQUEST and result.refs == () and result.lifetime is None
    env = sign_draft(result, now=T0)
    assert env.author == bytes(WITNESS.verify_key)
    assert env.body == HelpRequest(
        need=Need.MEDICAL,
        urgency=RequestUrgency.CRITICAL,
        people=2,
        place="12 rue des Lilas",
        point=Point(4_575_812, 484_655),
        text="insuffisance respiratoire",
        via=Handset(node=NODE, name="Marie"),
    )
    (view,) = board(env).requests
    assert view.via_handset == Handset(node=NODE, name="Marie")
    assert str(view.via_handset) == "!a1b2c3d4"
    assert view.requester == bytes(WITNESS.verify_key)  # the witness answers for it
    for lang in LANGUAGES:
        ack = acknowledgement(env, lang)
        assert_handset_text(ack)
        assert ack.count(env.short_id) == 2
    assert acknowledgement(env, "fr").startswith("SOS reçu et diffusé sous le n° ")


def test_help_becomes_a_normal_request() -> None:
    env = sign_draft(draft("HELP water 3"), now=T0)
    assert env.body == HelpRequest(need=Need.WATER, people=3, via=Handset(node=NODE))
    assert acknowledgement(env, "en") == (
        f"Request (water) passed on as {env.short_id}. Send DONE {env.short_id} when it is over."
    )


def test_ok_is_about_the_handset_holder_never_the_witness_household() -> None:
    env = sign_draft(draft("OK tout va bien", handset_name="Marie"), now=T0)
    assert env.body == CheckIn(
        status=CheckInStatus.SAFE,
        subject_name="!a1b2c3d4",
        text="tout va bien",
        via=Handset(node=NODE, name="Marie"),
    )
    (view,) = board(env).checkins
    assert view.household == ("name", "!a1b2c3d4") != bytes(WITNESS.verify_key)
    assert view.via_handset == Handset(node=NODE, name="Marie")
    assert view.reporter == bytes(WITNESS.verify_key)
    assert acknowledgement(env, "fr") == "Noté : vous êtes en sécurité."


def test_ok_for_is_a_check_in_on_behalf_of_the_person_named() -> None:
    env = sign_draft(draft("OK POUR Mme Martin"), now=T0)
    assert env.body == CheckIn(
        status=CheckInStatus.SAFE, subject_name="Mme Martin", via=Handset(node=NODE)
    )
    (view,) = board(env).checkins
    assert view.household == ("name", "mme martin") and view.on_behalf
    # the same household as a neighbour's own report on Mme Martin
    neighbour = sealed(
        CheckIn(status=CheckInStatus.NO_POWER, subject_name="MME  MARTIN"),
        key=OTHER_NODE,
        created=T0 + 60,
    )
    (latest,) = board(env, neighbour, now=T0 + 60).checkins
    assert latest.envelope == neighbour
    assert acknowledgement(env, "en") == "Noted: Mme Martin is safe."


def test_take_then_done_close_the_request_through_the_same_witness() -> None:
    request = sealed(HelpRequest(need=Need.FOOD), key=OTHER_NODE)
    sid = request.short_id
    take = draft(f"PRIS {sid} 30 j'arrive", now=T0 + 60, target=request)
    assert take.kind is Kind.CLAIM and take.refs == (request.id,)
    assert take.lifetime is not None and T0 + 60 + 60 * take.lifetime >= request.expires
    claim = sign_draft(take, now=T0 + 60)
    assert claim.body == Claim(eta_minutes=30, text="j'arrive", via=Handset(node=NODE))
    (view,) = board(request, claim, now=T0 + 60).requests
    assert view.status is RequestStatus.CLAIMED
    assert via_handset(view.claims[0]) == Handset(node=NODE)
    assert acknowledgement(claim, "fr") == (
        f"Noté : vous prenez en charge {sid}. Envoyez FAIT {sid} une fois terminé."
    )

    done = draft(f"DONE {sid} delivered", now=T0 + 120, target=request, related=[claim])
    assert done.kind is Kind.RESOLUTION and done.refs == (request.id,)
    resolution = sign_draft(done, now=T0 + 120)
    assert resolution.body == Resolution(text="delivered", via=Handset(node=NODE))
    (view,) = board(request, claim, resolution, now=T0 + 120).requests
    assert view.status is RequestStatus.RESOLVED
    assert view.resolved_by == bytes(WITNESS.verify_key)
    assert via_handset(view.resolution) == Handset(node=NODE)  # type: ignore[arg-type]
    assert acknowledgement(resolution, "en") == f"Noted: {sid} is done. Thank you!"

    with pytest.raises(BadCommand, match="already closed"):
        draft(f"FAIT {sid}", now=T0 + 180, target=request, related=[claim, resolution])
    with pytest.raises(BadCommand, match="already closed"):
        draft(f"PRIS {sid}", now=T0 + 180, target=request, related=[claim, resolution])


def test_a_handset_closes_its_own_sos() -> None:
    sos = sign_draft(draft("SOS"), now=T0)
    done = sign_draft(draft(f"FAIT {sos.short_id}", now=T0 + 60, target=sos), now=T0 + 60)
    (view,) = board(sos, done, now=T0 + 60).requests
    assert view.status is RequestStatus.RESOLVED


def test_a_handset_cannot_close_what_it_neither_made_nor_took() -> None:
    # the witness household's own request: a stranger's handset must not close it
    own = sealed(HelpRequest(need=Need.WATER))
    with pytest.raises(BadCommand) as info:
        draft(f"FAIT {own.short_id}", target=own)
    assert info.value.lang == "fr"
    assert info.value.reply("fr") == (
        f"Seul qui a fait ou pris {own.short_id} peut la clore : envoyez d'abord PRIS"
        f" {own.short_id}."
    )
    # another handset's SOS, heard by the same witness
    sos = sign_draft(draft("SOS", node=NODE + 1), now=T0)
    with pytest.raises(BadCommand, match="Only whoever made or took"):
        draft(f"DONE {sos.short_id}", target=sos)
    # a claim by this witness for another handset does not count either
    claim = sign_draft(draft(f"TAKE {sos.short_id}", node=NODE + 2, target=sos), now=T0)
    with pytest.raises(BadCommand, match="Only whoever made or took"):
        draft(f"DONE {sos.short_id}", target=sos, related=[claim])


def test_a_handset_must_close_through_the_node_that_heard_it() -> None:
    sos = sign_draft(draft("SOS", key=OTHER_NODE), key=OTHER_NODE, now=T0)
    with pytest.raises(BadCommand, match="This node did not hear") as info:
        draft(f"FAIT {sos.short_id}", target=sos)
    assert "FAIT" in info.value.reply("fr") and "PRIS" in info.value.reply("fr")
    request = sealed(HelpRequest(need=Need.FOOD), key=BRIDGE)
    claim = sign_draft(
        draft(f"PRIS {request.short_id}", key=OTHER_NODE, target=request),
        key=OTHER_NODE,
        now=T0,
    )
    with pytest.raises(BadCommand, match="This node did not hear"):
        draft(f"FAIT {request.short_id}", target=request, related=[claim])


def test_a_withdrawn_claim_no_longer_lets_the_handset_close() -> None:
    request = sealed(HelpRequest(need=Need.FOOD), key=OTHER_NODE)
    claim = sign_draft(draft(f"PRIS {request.short_id}", target=request), now=T0)
    withdrawal = sealed(Retraction(), created=T0 + 1, refs=[claim.id])
    with pytest.raises(BadCommand, match="Only whoever made or took"):
        draft(f"FAIT {request.short_id}", target=request, related=[claim, withdrawal])


def test_take_and_done_need_a_current_help_request() -> None:
    request = sealed(HelpRequest(need=Need.FOOD), key=OTHER_NODE)
    sid = request.short_id
    with pytest.raises(BadCommand, match=f"No request {sid} is known here"):
        draft(f"PRIS {sid}")
    note = sealed(Comment(text="Merci"), refs=[request.id])
    with pytest.raises(BadCommand, match="is not a help request"):
        draft(f"PRIS {note.short_id}", target=note)
    with pytest.raises(BadCommand, match="no longer current"):
        draft(f"PRIS {sid}", target=request, now=request.expires)
    withdrawn = sealed(Retraction(), key=OTHER_NODE, created=T0 + 1, refs=[request.id])
    with pytest.raises(BadCommand, match="no longer current"):
        draft(f"TAKE {sid}", target=request, related=[withdrawn])
    with pytest.raises(BadCommand) as info:
        draft(f"TAKE {sid}")
    assert info.value.lang == "en"
    for lang in LANGUAGES:
        assert_handset_text(info.value.reply(lang))


def test_the_caller_s_mistakes_are_usage_errors() -> None:
    request = sealed(HelpRequest(need=Need.FOOD))
    witness = bytes(WITNESS.verify_key)
    with pytest.raises(UsageError):  # not the request the command names
        draft("PRIS 00000000", target=request)
    for node in (0, 2**32 - 1, -1, 2**32):
        with pytest.raises(UsageError):
            draft_from_command(ReportSafe(), handset_node=node, witness=witness, now=T0)
    with pytest.raises(UsageError):
        draft_from_command(ReportSafe(), handset_node=NODE, witness=b"short", now=T0)
    with pytest.raises(UsageError):
        draft_from_command(ShowHelp(), handset_node=NODE, witness=witness, now=T0)
    with pytest.raises(UsageError):
        acknowledgement(sealed(Tip(title="Eau")), "fr")
    for command in (  # built by the caller, not parsed: not valid messages
        RequestHelp(Need.GENERATOR, RequestUrgency.NORMAL),
        ReportSafe(text="x" * 141),
    ):
        with pytest.raises(UsageError):
            draft_from_command(command, handset_node=NODE, witness=witness, now=T0)


def test_the_handset_name_is_cleaned_and_bounded() -> None:
    result = draft("OK", handset_name="  Ma\x1brie\u202e  " + "é" * 40)
    assert isinstance(result.body, CheckIn) and result.body.via is not None
    name = result.body.via.name
    assert name.startswith("Ma rie") and len(name.encode()) <= 48
    assert all(unicodedata.category(c)[0] != "C" for c in name)
    assert draft("OK", handset_name=" \t ").body.via == Handset(node=NODE)
    # a place given by the node is bounded too
    request = draft("SOS", place="x" * 100).body
    assert isinstance(request, HelpRequest) and request.place == "x" * 48


def test_a_draft_seals_within_one_meshtastic_frame() -> None:
    """Handset-originated messages travel over LoRa: each fits a 231-byte payload."""
    request = sign_draft(draft("SOS", handset_name="n" * 48), now=T0)
    for text in ("OK POUR " + "x" * 40, f"PRIS {request.short_id}", f"FAIT {request.short_id}"):
        env = sign_draft(draft(text, handset_name="n" * 48, target=request, related=[]), now=T0)
        assert len(env.raw) <= 231, (text, len(env.raw))
    assert len(request.raw) <= 231


def test_errors_are_entraide_errors() -> None:
    assert issubclass(BadCommand, EntraideError)
