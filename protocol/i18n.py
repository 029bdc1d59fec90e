"""French and English text: a small gettext-style layer, pure (the language is a parameter).

- :func:`tr` translates a message. Its ``msgid`` is the English text itself, with ``{named}``
  placeholders in :meth:`str.format` style; the French catalogue :data:`protocol.i18n_fr.FR`
  maps each msgid to its French text, with the same placeholders. A missing French entry
  falls back to English rather than fail on user-visible text; the catalogue test in
  ``tests/protocol/test_i18n.py`` finds every ``tr("literal", ...)`` call of the code base
  and fails if its French entry is missing, has other placeholders, or is stale.
- :func:`label` names a member of a protocol enumeration (:mod:`protocol.kinds`) in a few
  words, short enough for a table column or a 200-byte handset text; :func:`parse_label` reads
  it back from a command line in either language.
- :func:`error_text` says what went wrong with an :class:`~protocol.errors.EntraideError` in
  the user's language, followed by the (English) technical detail.

Nothing here reads the locale or the environment: callers pass ``lang`` (any spelling that
:func:`normalise_language` understands, e.g. ``"fr"`` or ``"fr_FR.UTF-8"``).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, TypeVar

from . import errors
from .i18n_fr import FR
from .kinds import (
    AlertOrigin,
    Category,
    Certainty,
    CheckInStatus,
    IncidentType,
    Kind,
    Need,
    Outcome,
    RequestUrgency,
    ResourceType,
    RevokeReason,
    Role,
    Severity,
    TipType,
    Urgency,
    Verdict,
)

__all__ = [
    "ENUMS",
    "LANGUAGES",
    "enum_title",
    "error_text",
    "label",
    "normalise_language",
    "parse_label",
    "tr",
]

#: The languages entraide speaks; the first is the project's home language.
LANGUAGES: Final = ("fr", "en")

_E = TypeVar("_E", bound=enum.IntEnum)


def normalise_language(value: str | None) -> str:
    """``"fr"`` for any spelling of French (``"FR"``, ``"fr_FR.UTF-8"``, ``"fr-CA"``,
    ``"français"``), else ``"en"`` (also for ``None``, ``""``, ``"C"`` or ``"POSIX"``)."""
    if not value:
        return "en"
    head = value.strip().casefold()
    for sep in "_-.@ ":
        head = head.split(sep, 1)[0]
    return "fr" if head in {"fr", "fre", "fra", "french", "français", "francais"} else "en"


def tr(msgid: str, lang: str, /, **params: object) -> str:
    """``msgid`` (English, with ``{named}`` placeholders) in ``lang``, formatted with
    ``params``. Untranslated or broken French falls back to English."""
    if normalise_language(lang) == "fr":
        french = FR.get(msgid)
        if french is not None:
            try:
                return french.format(**params)
            except (KeyError, IndexError, ValueError):
                pass  # a bad French entry must not hide the message: say it in English
    return msgid.format(**params)


# --- Enumeration labels -------------------------------------------------------------------
# (English, French) per member. Lower case, a few words: they go into table columns and into
# 200-byte handset texts. Severity, urgency and certainty use the CAP terms (French as in the
# French-language CAP profile), as official alerts are mirrored from CAP.

_LabelTable = Mapping[int, tuple[str, str]]

_LABELS: Final[Mapping[type[enum.IntEnum], _LabelTable]] = {
    Kind: {
        Kind.ALERT: ("alert", "alerte"),
        Kind.HELP_REQUEST: ("help request", "demande d'aide"),
        Kind.HELP_OFFER: ("help offer", "offre d'aide"),
        Kind.CLAIM: ("claim", "prise en charge"),
        Kind.RESOLUTION: ("resolution", "clôture"),
        Kind.CHECKIN: ("check-in", "nouvelles du foyer"),
        Kind.INCIDENT: ("incident", "incident"),
        Kind.RESOURCE_POINT: ("resource point", "point de ressources"),
        Kind.TIP: ("tip", "conseil"),
        Kind.RETRACTION: ("retraction", "retrait"),
        Kind.COMMENT: ("comment", "commentaire"),
        Kind.VOUCH: ("vouch", "parrainage"),
        Kind.REVOKE: ("revocation", "révocation"),
        Kind.MARK: ("verification mark", "vérification"),
        Kind.CORROBORATION: ("corroboration", "témoignage de voisin"),
        Kind.ROSTER_ENTRY: ("check-on-me entry", "inscription au registre"),
    },
    Severity: {
        Severity.UNKNOWN: ("unknown", "inconnue"),
        Severity.MINOR: ("minor", "mineure"),
        Severity.MODERATE: ("moderate", "modérée"),
        Severity.SEVERE: ("severe", "grave"),
        Severity.EXTREME: ("extreme", "extrême"),
    },
    Urgency: {
        Urgency.UNKNOWN: ("unknown", "inconnue"),
        Urgency.PAST: ("past", "passée"),
        Urgency.FUTURE: ("future", "future"),
        Urgency.EXPECTED: ("expected", "prévue"),
        Urgency.IMMEDIATE: ("immediate", "immédiate"),
    },
    RequestUrgency: {
        RequestUrgency.LOW: ("low", "faible"),
        RequestUrgency.NORMAL: ("normal", "normale"),
        RequestUrgency.HIGH: ("high", "élevée"),
        RequestUrgency.CRITICAL: ("life at risk", "urgence vitale"),
    },
    Certainty: {
        Certainty.UNKNOWN: ("unknown", "inconnue"),
        Certainty.UNLIKELY: ("unlikely", "peu probable"),
        Certainty.POSSIBLE: ("possible", "possible"),
        Certainty.LIKELY: ("likely", "probable"),
        Certainty.OBSERVED: ("observed", "observée"),
    },
    Category: {
        Category.OTHER: ("other", "autre"),
        Category.GEO: ("geophysical", "géophysique"),
        Category.MET: ("weather", "météo"),
        Category.SAFETY: ("public safety", "sécurité civile"),
        Category.SECURITY: ("security", "sûreté"),
        Category.RESCUE: ("rescue", "secours"),
        Category.FIRE: ("fire", "incendie"),
        Category.HEALTH: ("health", "santé"),
        Category.ENV: ("environment", "environnement"),
        Category.TRANSPORT: ("transport", "transports"),
        Category.INFRA: ("infrastructure", "réseaux et infrastructures"),
        Category.CBRNE: ("CBRNE", "NRBC-E"),
    },
    AlertOrigin: {
        AlertOrigin.COMMUNITY: ("community", "citoyenne"),
        AlertOrigin.OFFICIAL: ("official", "officielle"),
    },
    Need: {
        Need.WATER: ("water", "eau"),
        Need.FOOD: ("food", "nourriture"),
        Need.MEDICAL: ("medical care", "soins médicaux"),
        Need.MEDICATION: ("medication", "médicaments"),
        Need.EVACUATION: ("evacuation", "évacuation"),
        Need.SHELTER: ("shelter", "hébergement"),
        Need.POWER: ("power / charging", "électricité / recharge"),
        Need.TRANSPORT: ("transport", "transport"),
        Need.CHECK_ON_PERSON: ("check on someone", "passer voir quelqu'un"),
        Need.OTHER: ("other", "autre"),
        Need.FIRST_AID: ("first aid", "premiers secours"),
        Need.GENERATOR: ("generator", "groupe électrogène"),
        Need.FOUR_BY_FOUR: ("4x4 vehicle", "véhicule 4x4"),
        Need.SPARE_ROOM: ("spare room", "chambre libre"),
        Need.TOOLS: ("tools", "outils"),
    },
    Outcome: {
        Outcome.DONE: ("done", "résolu"),
        Outcome.CANCELLED: ("cancelled", "annulé"),
    },
    CheckInStatus: {
        CheckInStatus.SAFE: ("safe", "en sécurité"),
        CheckInStatus.NEED_HELP: ("needs help", "besoin d'aide"),
        CheckInStatus.EVACUATED: ("evacuated", "évacué"),
        CheckInStatus.NO_POWER: ("no power", "sans électricité"),
        CheckInStatus.INJURED: ("injured", "blessé"),
        CheckInStatus.SHELTERING: ("sheltering in place", "mise à l'abri"),
        CheckInStatus.NOBODY_HOME: ("nobody home", "domicile vide"),
    },
    IncidentType: {
        IncidentType.FLOODING: ("flooding", "inondation"),
        IncidentType.ROAD_BLOCKED: ("road blocked", "route coupée"),
        IncidentType.POWER_LINE_DOWN: ("power line down", "ligne électrique à terre"),
        IncidentType.FIRE: ("fire", "incendie"),
        IncidentType.GAS_LEAK: ("gas leak", "fuite de gaz"),
        IncidentType.BUILDING_DAMAGE: ("damaged building", "bâtiment endommagé"),
        IncidentType.TREE_DOWN: ("fallen tree", "arbre tombé"),
        IncidentType.WATER_CONTAMINATION: ("unsafe tap water", "eau non potable"),
        IncidentType.CHEMICAL: ("chemical hazard", "risque chimique"),
        IncidentType.OTHER: ("other", "autre"),
    },
    ResourceType: {
        ResourceType.WATER_DISTRIBUTION: ("water distribution", "point de distribution d'eau"),
        ResourceType.SHELTER: ("shelter", "centre d'hébergement"),
        ResourceType.CHARGING: ("charging point", "point de recharge"),
        ResourceType.FOOD: ("food distribution", "distribution alimentaire"),
        ResourceType.MEDICAL_POST: ("first-aid post", "poste de secours"),
        ResourceType.INFORMATION: ("information point", "point d'information"),
        ResourceType.OTHER: ("other", "autre"),
    },
    TipType: {
        TipType.TIP: ("safety tip", "conseil de prévention"),
        TipType.DRILL: ("drill (exercise)", "exercice"),
    },
    Role: {
        Role.HOUSEHOLD: ("household", "foyer"),
        Role.RELAY: ("relay", "relais"),
        Role.BRIDGE: ("bridge", "passerelle"),
        Role.COORDINATOR: ("coordinator", "coordination"),
    },
    Verdict: {
        Verdict.CONFIRMED: ("confirmed", "confirmé"),
        Verdict.FALSE: ("false", "faux"),
    },
    RevokeReason: {
        RevokeReason.WITHDRAWN: ("role withdrawn", "rôle retiré"),
        RevokeReason.KEY_LOST: ("key lost or stolen", "clé perdue ou volée"),
        RevokeReason.MISCONDUCT: ("misconduct", "abus"),
    },
}

#: Every enumeration that has labels, in the order of :mod:`protocol.kinds`.
ENUMS: Final[tuple[type[enum.IntEnum], ...]] = tuple(_LABELS)

#: What each enumeration is, (English, French): column headings and error messages.
_TITLES: Final[Mapping[type[enum.IntEnum], tuple[str, str]]] = {
    Kind: ("message kind", "type de message"),
    Severity: ("severity", "gravité"),
    Urgency: ("urgency", "urgence"),
    RequestUrgency: ("urgency", "urgence"),
    Certainty: ("certainty", "certitude"),
    Category: ("category", "catégorie"),
    AlertOrigin: ("origin", "origine"),
    Need: ("need", "besoin"),
    Outcome: ("outcome", "issue"),
    CheckInStatus: ("status", "situation"),
    IncidentType: ("incident type", "type d'incident"),
    ResourceType: ("resource type", "type de ressource"),
    TipType: ("tip type", "type de conseil"),
    Role: ("role", "rôle"),
    Verdict: ("verdict", "verdict"),
    RevokeReason: ("reason", "motif"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if normalise_language(lang) == "fr" else pair[0]


def _fallback(name: str) -> str:
    return name.lower().replace("_", " ")


def label(value: enum.IntEnum, lang: str) -> str:
    """The short human name of an enumeration member, e.g. ``Need.POWER`` is
    "power / charging" in English and "électricité / recharge" in French."""
    pair = _LABELS.get(type(value), {}).get(value)
    return _fallback(value.name) if pair is None else _pick(pair, lang)


def enum_title(enum_cls: type[enum.IntEnum], lang: str) -> str:
    """What an enumeration is about ("need" / "besoin"), e.g. for a column heading."""
    pair = _TITLES.get(enum_cls)
    return _fallback(enum_cls.__name__) if pair is None else _pick(pair, lang)


def _key(text: str) -> str:
    """Matching key: case, accents, apostrophes, '-', '_' and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").replace("_", " ").split())


def _build_lookup(enum_cls: type[enum.IntEnum]) -> Mapping[str, int]:
    lookup: dict[str, int] = {}
    for member in enum_cls:
        english, french = _LABELS[enum_cls][member]
        for text in (member.name, english, french):
            seen = lookup.setdefault(_key(text), member.value)
            if seen != member.value:
                raise AssertionError(f"{enum_cls.__name__}: {text!r} names two members")
    return MappingProxyType(lookup)


_LOOKUP: Final[Mapping[type[enum.IntEnum], Mapping[str, int]]] = MappingProxyType(
    {enum_cls: _build_lookup(enum_cls) for enum_cls in ENUMS}
)


def parse_label(enum_cls: type[_E], text: str, lang: str | None = None) -> _E:
    """The member of ``enum_cls`` that ``text`` names: its French or English label, its
    English name in any case with '-' or '_' ("check-on-person"), or its number.

    Raises :class:`~protocol.errors.UsageError` listing the accepted labels in ``lang``
    (English when ``None``) when nothing matches."""
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit():
        try:
            return enum_cls(int(stripped))
        except ValueError:
            pass
    lookup = _LOOKUP.get(enum_cls)
    key = _key(stripped)
    if lookup is not None and key in lookup:
        return enum_cls(lookup[key])
    if lookup is None:  # an enumeration without labels: names only
        for member in enum_cls:
            if _key(member.name) == key:
                return member
    shown = normalise_language(lang)
    raise errors.UsageError(
        tr(
            'unrecognised {what} "{value}"; accepted values: {choices}',
            shown,
            what=enum_title(enum_cls, shown),
            value=text,
            choices=", ".join(label(member, shown) for member in enum_cls),
        )
    )


# --- Errors -------------------------------------------------------------------------------

#: What each kind of error means for a user, (English, French); subclasses without an entry
#: use their nearest ancestor's.
_ERROR_PREFIXES: Final[Mapping[type, tuple[str, str]]] = {
    errors.EntraideError: ("error", "erreur"),
    errors.PeerError: ("rejected input", "donnée reçue rejetée"),
    errors.DecodeError: ("malformed message", "message mal formé"),
    errors.Truncated: ("truncated message", "message tronqué"),
    errors.Oversize: ("message too large", "message trop volumineux"),
    errors.NonCanonical: ("non-canonical encoding", "encodage non canonique"),
    errors.UnsupportedVersion: (
        "unsupported protocol version",
        "version de protocole non prise en charge",
    ),
    errors.FrameError: ("malformed radio frame", "trame radio mal formée"),
    errors.UnknownKeyRef: (
        "radio frame from an unknown author key",
        "trame radio d'une clé d'auteur inconnue",
    ),
    errors.BadSignature: ("forged or corrupted signature", "signature falsifiée ou corrompue"),
    errors.InvalidMessage: ("invalid message", "message invalide"),
    errors.UnknownKind: ("unknown message kind", "type de message inconnu"),
    errors.ExpiredMessage: ("expired message", "message expiré"),
    errors.FutureMessage: ("message dated in the future", "message daté du futur"),
    errors.Unauthorized: ("sender not authorised", "expéditeur non autorisé"),
    errors.WrongZone: ("message from another aid zone", "message d'une autre zone d'entraide"),
    errors.InvalidCharter: ("invalid zone charter", "charte de zone invalide"),
    errors.SyncError: ("catch-up protocol broken", "protocole de rattrapage non respecté"),
    errors.LocalError: ("cannot proceed", "impossible de continuer"),
    errors.UsageError: ("invalid request", "demande invalide"),
}


def error_text(exc: errors.EntraideError, lang: str) -> str:
    """What went wrong, for a user: the meaning of the error's class in ``lang``, then the
    technical detail ``str(exc)`` (which is in English), e.g. "signature falsifiée ou
    corrompue : help_request from 3f2a…"."""
    prefix = "error"
    for cls in type(exc).__mro__:
        pair = _ERROR_PREFIXES.get(cls)
        if pair is not None:
            prefix = _pick(pair, lang)
            break
    detail = tr(exc.msgid, lang, **exc.params) if exc.msgid is not None else str(exc)
    if not detail:
        return prefix
    return tr("{prefix}: {detail}", lang, prefix=prefix, detail=detail)
