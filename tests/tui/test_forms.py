"""Compose forms: every kind has one, and what the user types is checked field by field."""

from __future__ import annotations

import pytest

from protocol import kinds as k
from protocol.i18n import LANGUAGES
from tui.forms import COMPOSABLE, LIFETIME, TARGETED, form_fields, parse_form, values_from_body


def test_every_kind_a_neighbour_writes_has_a_form() -> None:
    # The trust kinds (vouch, revoke, marks...) are written by relays and coordinators.
    assert set(COMPOSABLE) == {
        k.Kind.ALERT,
        k.Kind.HELP_REQUEST,
        k.Kind.HELP_OFFER,
        k.Kind.CLAIM,
        k.Kind.RESOLUTION,
        k.Kind.CHECKIN,
        k.Kind.INCIDENT,
        k.Kind.RESOURCE_POINT,
        k.Kind.TIP,
        k.Kind.RETRACTION,
        k.Kind.COMMENT,
    }
    for kind in COMPOSABLE:
        names = [f.name for f in form_fields(kind)]
        assert names, kind
        assert not {"origin", "official", "via"} & set(names)


@pytest.mark.parametrize("kind", COMPOSABLE, ids=lambda kind: kind.name.lower())
@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_empty_form_says_what_is_missing(kind: k.Kind, lang: str) -> None:
    result = parse_form(kind, {}, lang)
    required = {f.name for f in form_fields(kind) if f.required}
    if required:
        assert result.draft is None and set(result.errors) == required
    else:
        assert result.draft is not None and result.draft.kind is kind


def test_a_help_request() -> None:
    result = parse_form(
        k.Kind.HELP_REQUEST,
        {
            "need": k.Need.WATER,
            "urgency": k.RequestUrgency.HIGH,
            "people": "3",
            "place": "rue",
            "vulnerable": True,
            "point": "48.85,2.35",
            LIFETIME: "2d",
        },
        "en",
    )
    assert result.errors == {}
    assert result.draft is not None
    body = result.draft.body
    assert isinstance(body, k.HelpRequest)
    assert (body.need, body.people, body.vulnerable) == (k.Need.WATER, 3, True)
    assert body.point is not None and body.point.lat == 48.85
    assert result.draft.lifetime == 2 * 1440


def test_only_needs_can_be_requested() -> None:
    need = next(f for f in form_fields(k.Kind.HELP_REQUEST) if f.name == "need")
    assert k.Need.GENERATOR not in need.choices and k.Need.WATER in need.choices
    what = next(f for f in form_fields(k.Kind.HELP_OFFER) if f.name == "what")
    assert k.Need.GENERATOR in what.choices


@pytest.mark.parametrize(
    ("values", "field", "french"),
    [
        ({"people": "trois"}, "people", "« trois » n'est pas un nombre entier"),
        ({"people": "0"}, "people", "0 est hors limites : de 1 à 999"),
        ({"place": "é" * 30}, "place", "trop long : 60 octets, 48 au maximum"),
        ({"text": "a\x07b"}, "text", "caractère de contrôle"),
        ({"point": "nord"}, "point", "« nord » n'est pas une position"),
        ({LIFETIME: "demain"}, LIFETIME, "« demain » n'est pas une durée"),
        ({LIFETIME: "30d"}, LIFETIME, "dure au plus 7 jours"),
    ],
)
def test_field_errors_in_french(values: dict[str, object], field: str, french: str) -> None:
    result = parse_form(k.Kind.HELP_REQUEST, {"need": k.Need.FOOD, **values}, "fr")
    assert result.draft is None
    assert french in result.errors[field]


def test_rules_across_fields() -> None:
    both = parse_form(
        k.Kind.CHECKIN,
        {"status": k.CheckInStatus.SAFE, "subject_key": "ab" * 32, "subject_name": "Mme Martin"},
        "fr",
    )
    assert both.draft is None and "message invalide" in both.errors[""]
    drill = parse_form(
        k.Kind.TIP,
        {
            "title": "Exercice",
            "type": k.TipType.DRILL,
            "drill_start": "2026-11-22T14:00",
            "drill_end": "2026-11-22T10:00",
        },
        "en",
    )
    assert drill.errors == {"drill_end": "the exercise ends before it starts"}


def test_a_claim_asks_when_you_will_be_there() -> None:
    names = [f.name for f in form_fields(k.Kind.CLAIM)]
    assert names == ["eta_minutes", "text"]  # its lifetime follows the request's
    result = parse_form(k.Kind.CLAIM, {"eta_minutes": "1h"}, "en", refs=(b"\x01" * 32,))
    assert result.draft is not None and result.draft.refs == (b"\x01" * 32,)
    assert isinstance(result.draft.body, k.Claim) and result.draft.body.eta_minutes == 60
    assert parse_form(k.Kind.CLAIM, {"eta_minutes": "8w"}, "en").errors["eta_minutes"]


def test_targeted_kinds() -> None:
    assert {
        k.Kind.CLAIM,
        k.Kind.RESOLUTION,
        k.Kind.COMMENT,
        k.Kind.RETRACTION,
        k.Kind.CORROBORATION,
        k.Kind.MARK,
    } == TARGETED
    assert [f.name for f in form_fields(k.Kind.MARK)] == ["verdict", "text", "lifetime"]


def test_values_from_a_body_fill_the_same_form_back() -> None:
    body = k.ResourcePoint(type=k.ResourceType.SHELTER, name="Gymnase", hours="8h-20h", open=False)
    result = parse_form(k.Kind.RESOURCE_POINT, values_from_body(body), "en")
    assert result.draft is not None and result.draft.body == body
