"""The bridge's rules without the network: CAP parsing and validation of the shared corpus,
indexes, link policy, zone areas, and the mirror's decisions (supersession, cancellation,
Meteo-France dialect, lifetimes, exercises). Plain synchronous tests."""

from __future__ import annotations

import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from node.bridge.area import AreaMatch, Regions, ZoneArea
from node.bridge.cap import CapKey, Circle, parse_cap
from node.bridge.errors import BridgeConfigError, CapRejected, LinkRefused, Reason
from node.bridge.feed import parse_index
from node.bridge.fetch import LinkPolicy
from node.bridge.mirror import BridgeState, Decision, Mirror
from node.bridge.settings import BridgeSettings, load_bridge_settings, parse_bridge_table
from protocol import kinds as k
from tests.node.bridgeharness import CAP_DATA, SEVESO_ZONE, cap_file

REGIONS = Regions.shipped()
LYON = ZoneArea(circles=(Circle(45.75, 4.85, 5.0),))  # where the hostile samples point


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def mirror_for(area: ZoneArea, **options: object) -> Mirror:
    settings = BridgeSettings(area=area, **options)  # type: ignore[arg-type]
    return Mirror(settings, area.matcher(REGIONS), BridgeState())


def decide(mirror: Mirror, data: bytes, now: int, source: str = "test") -> Decision:
    decision = mirror.decide(parse_cap(data), source=source, now=now)
    return decision


def commit(mirror: Mirror, decision: Decision, now: int) -> bytes | None:
    """Commit as the service would, with a made-up mirror id."""
    mirror_id = None if decision.body is None else decision.key.identifier.encode().ljust(32, b"-")
    mirror.commit(decision, mirror_id, now)
    return mirror_id


def flags_of(decision: Decision) -> set[Reason]:
    return {reason for reason, _ in decision.flags}


# --- every sample parses --------------------------------------------------------------------

SAMPLE_CAP = sorted(
    p.name for p in (CAP_DATA / "samples").glob("*.xml") if "atom_index" not in p.name
)


@pytest.mark.parametrize("name", SAMPLE_CAP)
def test_every_real_sample_parses(name: str) -> None:
    data = cap_file(name).read_bytes()
    alert = parse_cap(data)
    assert alert.version in ("1.2", "1.1")
    assert alert.identifier and alert.sender and alert.sent > 0
    assert len(alert.digest) == 32


def test_sample_details_are_read() -> None:
    fr = parse_cap(cap_file("fr_meteofrance_orages_jaune_fr_en_nuts3_expired.xml").read_bytes())
    assert [i.language for i in fr.infos] == ["fr-FR", "en-GB"]
    assert fr.infos[0].parameter("awareness_level") == "2; yellow; Moderate"
    assert ("NUTS3", "FR823") in fr.infos[0].areas[2].geocodes
    swiss = parse_cap(cap_file("ch_alertswiss_status_test_derived.xml").read_bytes())
    assert swiss.status == "Test" and swiss.exercise
    assert {r for r, _ in swiss.flags} == {Reason.MISSING_OPTIONAL}  # no category, certainty
    nws = parse_cap(cap_file("us_nws_update_multiple_polygons.xml").read_bytes())
    assert len(nws.references) == 8 and len(nws.infos[0].areas[0].polygons) == 2
    quake = parse_cap(cap_file("us_usgs_earthquake_cap11_xmldsig_signed.xml").read_bytes())
    assert quake.version == "1.1" and quake.infos[0].areas[0].circles[0].radius_km == 0
    dwd = parse_cap(cap_file("de_dwd_thunderstorm_update_references.xml").read_bytes())
    assert Reason.POLYGON_TOO_FEW_POINTS in {r for r, _ in dwd.flags}  # 3 pairs: dropped
    inmet = parse_cap(cap_file("br_inmet_coastal_wind_pt_polygon_trailing_space.xml").read_bytes())
    assert len(inmet.infos[0].areas[0].polygons) == 1  # trailing white space is fine
    cancel = parse_cap(cap_file("us_athoc_cancel_no_info_signed.xml").read_bytes())
    assert cancel.msg_type == "Cancel" and not cancel.infos and len(cancel.references) == 1


@pytest.mark.parametrize(
    ("name", "entries", "first_link"),
    [
        (
            "meteoalarm_es_atom_index_trimmed.xml",
            4,
            "https://feeds.meteoalarm.org/api/v1/warnings/feeds-spain/"
            "9d62e839-995b-4831-854e-3c006c69eefb",
        ),
        (
            "us_usgs_alerthub_atom_index.xml",
            1,
            "http://earthquake.usgs.gov/earthquakes/eventpage/usb000qfgs.cap",
        ),
    ],
)
def test_sample_indexes_parse(name: str, entries: int, first_link: str) -> None:
    index = parse_index(cap_file(name).read_bytes())
    assert index.kind == "atom"
    assert len(index.entries) == entries
    assert index.entries[0].link == first_link
    with pytest.raises(CapRejected) as rejected:
        parse_cap(cap_file(name).read_bytes())
    assert rejected.value.reason is Reason.NOT_CAP


def test_an_rss_index_with_cap_enclosures() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><guid>a-1</guid><pubDate>Tue, 20 Jan 2026 09:00:00 GMT</pubDate>
      <link>https://example.org/page</link>
      <enclosure url="https://example.org/a-1.cap" type="application/cap+xml" length="1"/></item>
    <item><title>no link</title></item>
    <item><link>https://example.org/b.xml</link></item></channel></rss>"""
    index = parse_index(rss)
    assert index.kind == "rss"
    assert [(e.entry_id, e.link) for e in index.entries] == [
        ("a-1", "https://example.org/a-1.cap"),
        ("", None),
        ("https://example.org/b.xml", "https://example.org/b.xml"),
    ]
    assert [r for r, _ in index.flags] == [Reason.SKIPPED_LINK]
    with pytest.raises(CapRejected) as exc:
        parse_index(b"<html><body>503</body></html>")
    assert exc.value.reason is Reason.HTML_PAGE
    assert (
        parse_index(cap_file("synthetic_fr_seveso_exercise_1_alert.xml").read_bytes()).kind == "cap"
    )


# --- hostile documents ----------------------------------------------------------------------

#: The reason each hostile document is refused with, or the flag it gets when it is used
#: repaired (SOURCES.md: "expected bridge behaviour").
HOSTILE = {
    "REAL_google_xxe_atom_index_attack.xml": Reason.DOCTYPE_FORBIDDEN,
    "atom_index_ssrf_links.xml": Reason.NOT_CAP,  # as a CAP document; as an index below
    "billion_laughs.xml": Reason.DOCTYPE_FORBIDDEN,
    "duplicate_singleton_elements.xml": Reason.DUPLICATE_ELEMENT,
    "empty_file.xml": Reason.EMPTY,
    "expires_before_onset.xml": Reason.NO_WARNING_MARKER,
    "html_error_page_as_feed.xml": Reason.HTML_PAGE,
    "huge_description_2_5MB.xml": Reason.TOO_LARGE,
    "invalid_dates_unparseable.xml": Reason.BAD_DATE,
    "missing_required_elements.xml": Reason.MISSING_ELEMENT,
    "no_namespace.xml": Reason.NO_NAMESPACE,
    "polygon_too_few_points.xml": Reason.NO_USABLE_AREA,  # its only area is dropped
    "polygon_unclosed.xml": Reason.POLYGON_UNCLOSED,  # closed and flagged, then used
    "truncated_mid_element.xml": Reason.NOT_WELL_FORMED,
    "update_missing_references.xml": Reason.UPDATE_WITHOUT_REFERENCES,  # new alert, flagged
    "wrong_namespace_cap13.xml": Reason.WRONG_NAMESPACE,
    "xxe_external_entity_file.xml": Reason.DOCTYPE_FORBIDDEN,
}
HOSTILE_NOW = ts("2026-01-15T12:00:00+01:00")  # while the hostile samples would be live


def outcome_reasons(data: bytes, now: int = HOSTILE_NOW) -> tuple[str, set[Reason]]:
    """("rejected" | "skip" | "mirror" | "cancel", every reason and flag) for one document."""
    try:
        decision = decide(mirror_for(LYON), data, now)
    except CapRejected as exc:
        return "rejected", {exc.reason}
    found = flags_of(decision) | ({decision.reason} if decision.reason else set())
    return decision.action, found


def test_the_table_covers_every_hostile_file() -> None:
    assert set(HOSTILE) == {p.name for p in (CAP_DATA / "hostile").iterdir()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_document_refused_in_bounded_time_and_memory(name: str) -> None:
    data = cap_file(name).read_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    action, reasons = outcome_reasons(data)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert HOSTILE[name] in reasons, (name, action, reasons)
    # Refused, not expanded: an expansion would take minutes or exhaust memory. Generous,
    # so a busy machine does not fail it (the parse itself takes milliseconds).
    assert elapsed < 5.0
    assert peak < 16 * 2**20  # the 2.7 MB document is refused before it is parsed
    if name in ("polygon_unclosed.xml", "update_missing_references.xml"):
        assert action == "mirror"  # repaired or flagged, but a real alert in the zone
    else:
        assert action in ("rejected", "skip")


def test_the_xxe_payload_is_never_expanded() -> None:
    data = cap_file("xxe_external_entity_file.xml").read_bytes()
    with pytest.raises(CapRejected) as rejected:
        parse_cap(data)
    assert "root:" not in str(rejected.value)


def test_a_field_over_its_cap_is_refused() -> None:
    data = cap_file("synthetic_fr_seveso_exercise_1_alert.xml").read_bytes()
    big = data.replace(b"EXERCICE. Un rejet", b"x" * 70_000 + b" rejet", 1)
    with pytest.raises(CapRejected) as rejected:
        parse_cap(big)
    assert rejected.value.reason is Reason.FIELD_TOO_LARGE


def test_deep_nesting_is_refused() -> None:
    data = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        + b"<a>" * 200
        + b"</a>" * 200
        + b"</alert>"
    )
    with pytest.raises(CapRejected) as rejected:
        parse_cap(data)
    assert rejected.value.reason is Reason.TOO_DEEP


def test_a_mislabelled_encoding_is_read_and_flagged() -> None:
    text = cap_file("synthetic_fr_seveso_exercise_1_alert.xml").read_text(encoding="utf-8")
    alert = parse_cap(text.encode("cp1252", "replace"))
    assert Reason.MISLABELLED_ENCODING in {r for r, _ in alert.flags}
    assert alert.infos[0].headline == "EXERCICE - Mise à l'abri immédiate : rejet toxique"


def test_bidi_controls_are_removed_from_the_mirror_and_flagged() -> None:
    data = cap_file("synthetic_fr_seveso_exercise_1_alert.xml").read_bytes()
    data = data.replace(b"rejet toxique</headline>", "rejet \u202etoxique</headline>".encode())
    decision = decide(mirror_for(SEVESO_ZONE), data, ts("2026-01-20T09:10:00+01:00"))
    assert decision.body is not None and "\u202e" not in decision.body.headline
    assert Reason.CONTROL_CHARACTERS in flags_of(decision)


# --- links ---------------------------------------------------------------------------------


def test_ssrf_links_of_an_index_are_refused() -> None:
    index = parse_index(cap_file("atom_index_ssrf_links.xml").read_bytes())
    policy = LinkPolicy(frozenset({"feeds.meteoalarm.org"}))
    base = "https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-france"
    refused = {}
    for entry in index.entries:
        assert entry.link is not None
        with pytest.raises(LinkRefused) as exc:
            policy.check(entry.link, base=base)
        refused[entry.link] = exc.value.reason
    assert refused == {
        "file:///etc/passwd": Reason.SCHEME_NOT_ALLOWED,
        "http://127.0.0.1:9/cap.xml": Reason.SCHEME_NOT_ALLOWED,
        "http://169.254.169.254/latest/meta-data/": Reason.SCHEME_NOT_ALLOWED,
        "http://10.0.0.1/admin": Reason.SCHEME_NOT_ALLOWED,
        "javascript:alert(1)": Reason.SCHEME_NOT_ALLOWED,
        "https://attacker.example.invalid/fake-meteofrance.xml": Reason.HOST_NOT_ALLOWED,
        "//no-scheme.example.invalid/x.xml": Reason.HOST_NOT_ALLOWED,
    }
    assert policy.check("/api/v1/x", base=base) == "https://feeds.meteoalarm.org/api/v1/x"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://user:pw@feeds.meteoalarm.org/x", Reason.BAD_URL),
        ("https://feeds.meteoalarm.org:8443/x", Reason.HOST_NOT_ALLOWED),
        ("https://feeds.meteoalarm.org.evil.example/x", Reason.HOST_NOT_ALLOWED),
        ("https://[::1]/x", Reason.HOST_NOT_ALLOWED),
        ("https://feeds.meteoalarm.org:99999/x", Reason.BAD_URL),
        ("ftp://feeds.meteoalarm.org/x", Reason.SCHEME_NOT_ALLOWED),
    ],
)
def test_link_policy(url: str, reason: Reason) -> None:
    with pytest.raises(LinkRefused) as exc:
        LinkPolicy(frozenset({"feeds.meteoalarm.org"})).check(url)
    assert exc.value.reason is reason


def test_loopback_http_only_with_the_test_setting_and_on_the_allow_list() -> None:
    hosts = frozenset({"127.0.0.1:8080"})
    with pytest.raises(LinkRefused):
        LinkPolicy(hosts).check("http://127.0.0.1:8080/feed")
    assert LinkPolicy(hosts, allow_http_loopback=True).check("http://127.0.0.1:8080/feed")
    with pytest.raises(LinkRefused) as exc:
        LinkPolicy(hosts, allow_http_loopback=True).check("http://127.0.0.1:9/feed")
    assert exc.value.reason is Reason.HOST_NOT_ALLOWED


# --- areas ---------------------------------------------------------------------------------


def test_meteo_france_nuts3_codes_map_to_the_shipped_polygons() -> None:
    alert = parse_cap(cap_file("fr_meteofrance_orages_jaune_fr_en_nuts3_expired.xml").read_bytes())
    areas = alert.infos[0].areas
    nice = ZoneArea(circles=(Circle(43.70, 7.27, 2.0),)).matcher(REGIONS)
    assert nice.match(areas)[0] is AreaMatch.TOUCHES  # FR823 -> EMMA FR029, Alpes-Maritimes
    rouen = ZoneArea(circles=(Circle(49.44, 1.09, 2.0),)).matcher(REGIONS)
    assert rouen.match(areas)[0] is AreaMatch.OUTSIDE
    by_code = ZoneArea(geocodes=("NUTS3:FR623",)).matcher(REGIONS)  # Haute-Garonne
    assert by_code.match(areas)[0] is AreaMatch.TOUCHES
    assert REGIONS.region_of("NUTS3", "FR823") == "FR029"
    assert REGIONS.name_of("FR029") == "Alpes Maritimes"


def test_polygons_circles_and_unknown_areas() -> None:
    polygon = parse_cap(cap_file("oasis_cap12_appendixA2_thunderstorm_polygon.xml").read_bytes())
    california = ZoneArea(
        polygons=(((38.5, -120.0), (38.5, -119.9), (38.4, -119.9), (38.5, -120.0)),)
    )
    assert california.matcher(REGIONS).match(polygon.infos[0].areas)[0] is AreaMatch.TOUCHES
    assert LYON.matcher(REGIONS).match(polygon.infos[0].areas)[0] is AreaMatch.OUTSIDE
    hsas = parse_cap(cap_file("oasis_cap12_appendixA1_hsas_security.xml").read_bytes())
    assert LYON.matcher(REGIONS).match(hsas.infos[0].areas)[0] is AreaMatch.UNKNOWN
    seveso = parse_cap(cap_file("synthetic_fr_seveso_exercise_1_alert.xml").read_bytes())
    assert SEVESO_ZONE.matcher(REGIONS).match(seveso.infos[0].areas)[0] is AreaMatch.TOUCHES
    by_insee = ZoneArea(geocodes=("INSEE:76540",)).matcher(REGIONS)
    assert by_insee.match(seveso.infos[0].areas)[0] is AreaMatch.TOUCHES


# --- the mirror's decisions ----------------------------------------------------------------

SEVESO = [
    "synthetic_fr_seveso_exercise_1_alert.xml",
    "synthetic_fr_seveso_exercise_2_update.xml",
    "synthetic_fr_seveso_exercise_3_allclear_update.xml",
    "synthetic_fr_seveso_exercise_4_cancel_erroneous.xml",
]
SEVESO_NOW = ts("2026-01-20T09:05:00+01:00")
SENDER = "exercice.sidpc@prefecture.example.invalid"


def seveso(index: int) -> bytes:
    return cap_file(SEVESO[index]).read_bytes()


def made_up(
    identifier: str,
    msg_type: str = "Alert",
    references: str = "",
    *,
    sender: str = SENDER,
    sent: str = "2026-01-20T10:00:00+01:00",
    expires: str = "2026-01-20T16:00:00+01:00",
    status: str = "Exercise",
    extra_info: str = "",
) -> bytes:
    """A small CAP document in the SEVESO exercise's area."""
    refs = f"<references>{references}</references>" if references else ""
    info = (
        ""
        if msg_type == "Cancel"
        else f"""<info><language>fr-FR</language><category>Safety</category>
      <event>Essai</event><urgency>Immediate</urgency><severity>Severe</severity>
      <certainty>Observed</certainty><expires>{expires}</expires>
      <headline>Essai {identifier}</headline>{extra_info}
      <area><areaDesc>Site</areaDesc><circle>49.443,1.085 2</circle></area></info>"""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent}</sent>
  <status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}{info}
</alert>""".encode()


def test_seveso_sequence_supersedes_and_tombstones() -> None:
    mirror = mirror_for(SEVESO_ZONE)
    first = decide(mirror, seveso(0), SEVESO_NOW)
    assert first.action == "mirror" and first.body is not None
    assert first.body.exercise and first.body.origin is k.AlertOrigin.OFFICIAL
    assert first.body.official is not None and first.body.official.identifier == "FR-EX-2026-0001"
    assert first.body.headline.startswith("EXERCICE")  # French preferred
    assert first.lifetime == 4 * 60 - 5  # until <expires> 13:00, from 09:05
    id1 = commit(mirror, first, SEVESO_NOW)
    update = decide(mirror, seveso(1), SEVESO_NOW + 2400)
    assert update.refs == (id1,) and [t.mirror_id for t in update.tombstones] == [id1]
    assert update.body is not None and update.body.severity is k.Severity.EXTREME
    id2 = commit(mirror, update, SEVESO_NOW + 2400)
    clear = decide(mirror, seveso(2), SEVESO_NOW + 7500)
    assert clear.body is not None and clear.body.all_clear
    assert clear.refs == (id2,)  # the first one is already a tombstone
    commit(mirror, clear, SEVESO_NOW + 7500)
    cancel = decide(mirror, seveso(3), SEVESO_NOW + 7600)
    assert cancel.action == "cancel" and not cancel.tombstones
    assert Reason.DANGLING_REFERENCE in flags_of(cancel)
    commit(mirror, cancel, SEVESO_NOW + 7600)
    late = made_up("FR-EX-2026-9999", sent="2026-01-20T08:58:00+01:00")
    again = decide(mirror, late, SEVESO_NOW + 7700)
    assert again.action == "skip" and again.reason is Reason.ALREADY_CANCELLED
    assert decide(mirror, seveso(0), SEVESO_NOW + 7800).reason is Reason.DUPLICATE


def test_reference_loops_and_self_references_end() -> None:
    mirror = mirror_for(SEVESO_ZONE)
    a_key = f"{SENDER},LOOP-A,2026-01-20T10:00:00+01:00"
    b_key = f"{SENDER},LOOP-B,2026-01-20T10:01:00+01:00"
    a = made_up("LOOP-A", "Update", f"{b_key} {a_key}")
    b = made_up("LOOP-B", "Update", a_key, sent="2026-01-20T10:01:00+01:00")
    first = decide(mirror, a, SEVESO_NOW)
    assert first.action == "mirror"
    assert {Reason.SELF_REFERENCE, Reason.DANGLING_REFERENCE} <= flags_of(first)
    commit(mirror, first, SEVESO_NOW)
    second = decide(mirror, b, SEVESO_NOW)
    assert second.action == "skip" and second.reason is Reason.ALREADY_SUPERSEDED


def test_only_the_same_sender_supersedes_or_cancels() -> None:
    mirror = mirror_for(SEVESO_ZONE)
    commit(mirror, decide(mirror, seveso(0), SEVESO_NOW), SEVESO_NOW)
    target = f"{SENDER},FR-EX-2026-0001,2026-01-20T09:00:00+01:00"
    foreign = made_up("EVIL-1", "Cancel", target, sender="evil@example.invalid")
    with pytest.raises(CapRejected) as exc:
        decide(mirror, foreign, SEVESO_NOW)
    assert exc.value.reason is Reason.FOREIGN_CANCEL
    update = made_up("EVIL-2", "Update", target, sender="evil@example.invalid")
    decision = decide(mirror, update, SEVESO_NOW)
    assert not decision.tombstones and Reason.FOREIGN_REFERENCE in flags_of(decision)
    aggregator = mirror_for(SEVESO_ZONE, aggregators=frozenset({"hub@example.invalid"}))
    commit(aggregator, decide(aggregator, seveso(0), SEVESO_NOW), SEVESO_NOW)
    allowed = made_up("HUB-1", "Cancel", target, sender="hub@example.invalid")
    assert len(decide(aggregator, allowed, SEVESO_NOW).tombstones) == 1


def test_an_update_that_leaves_the_zone_withdraws_the_mirror() -> None:
    mirror = mirror_for(SEVESO_ZONE)
    commit(mirror, decide(mirror, seveso(0), SEVESO_NOW), SEVESO_NOW)
    moved = made_up(
        "FR-EX-2026-0005",
        "Update",
        f"{SENDER},FR-EX-2026-0001,2026-01-20T09:00:00+01:00",
    ).replace(b"49.443,1.085 2", b"45.75,4.85 2")
    decision = decide(mirror, moved, SEVESO_NOW)
    assert decision.action == "skip" and decision.reason is Reason.OUTSIDE_AREA
    assert len(decision.tombstones) == 1


@pytest.mark.parametrize(
    ("status", "shown", "exercise"),
    [("Actual", True, False), ("Exercise", True, True), ("Test", True, True),
     ("System", False, False), ("Draft", False, False)],
)  # fmt: skip
def test_status(status: str, shown: bool, exercise: bool) -> None:
    decision = decide(mirror_for(SEVESO_ZONE), made_up("S-1", status=status), SEVESO_NOW)
    assert (decision.action == "mirror") is shown
    if shown:
        assert decision.body is not None and decision.body.exercise is exercise
    else:
        assert decision.reason is Reason.STATUS_NOT_SHOWN


def test_lifetimes_are_clamped() -> None:
    mirror = mirror_for(SEVESO_ZONE, default_lifetime_min=90)
    far = decide(mirror, made_up("L-1", expires="2026-03-01T00:00:00+01:00"), SEVESO_NOW)
    assert far.lifetime == k.KIND_RULES[k.Kind.ALERT].max_lifetime
    assert Reason.LIFETIME_CLAMPED in flags_of(far)
    none = made_up("L-2", sent="2026-01-20T09:00:00+01:00").replace(
        b"<expires>2026-01-20T16:00:00+01:00</expires>", b""
    )
    assert decide(mirror, none, SEVESO_NOW).lifetime == 90
    with pytest.raises(CapRejected) as exc:
        decide(mirror, made_up("L-3", expires="2026-01-20T09:00:00+01:00"), SEVESO_NOW)
    assert exc.value.reason is Reason.EXPIRED


# --- Meteo-France ---------------------------------------------------------------------------

MF_NOW = ts("2022-08-10T17:00:00+02:00")
NICE = ZoneArea(circles=(Circle(43.70, 7.27, 2.0),))


def meteo_france(identifier: str, sent: str, onset: str, expires: str, level: str = "2") -> bytes:
    data = cap_file("fr_meteofrance_orages_jaune_fr_en_nuts3_expired.xml").read_bytes()
    colour = {"1": "green", "2": "yellow", "3": "orange"}[level]
    return (
        data.replace(b"2.49.0.0.250.0.FR.20220810161220.589023", identifier.encode())
        .replace(b"<sent>2022-08-10T16:12:20+02:00</sent>", f"<sent>{sent}</sent>".encode())
        .replace(b"<onset>2022-08-10T16:11:00+02:00</onset>", f"<onset>{onset}</onset>".encode())
        .replace(
            b"<expires>2022-08-11T16:00:00+02:00</expires>",
            f"<expires>{expires}</expires>".encode(),
        )
        .replace(b"2; yellow; Moderate", f"{level}; {colour}; Moderate".encode())
    )


def test_meteo_france_sample_is_mirrored_from_its_nuts3_codes() -> None:
    mirror = mirror_for(NICE)
    data = cap_file("fr_meteofrance_orages_jaune_fr_en_nuts3_expired.xml").read_bytes()
    decision = decide(mirror, data, MF_NOW)
    assert decision.action == "mirror" and decision.body is not None
    assert decision.body.headline == "Vigilance jaune orages"
    assert decision.body.category is k.Category.MET and not decision.body.exercise
    assert "\t" not in decision.body.instruction
    with pytest.raises(CapRejected) as exc:  # what the real clock says of it today
        decide(mirror_for(NICE), data, int(time.time()))
    assert exc.value.reason is Reason.EXPIRED


def test_meteo_france_no_warning_markers_are_dropped() -> None:
    for data in (
        meteo_france("MF-G1", "2022-08-10T16:00:00+02:00", "2022-08-11T00:00:00+02:00",
                     "2022-08-10T18:00:00+02:00"),
        meteo_france("MF-G2", "2022-08-10T16:00:00+02:00", "2022-08-10T16:00:00+02:00",
                     "2022-08-11T06:00:00+02:00", level="1"),
    ):  # fmt: skip
        with pytest.raises(CapRejected) as exc:
            decide(mirror_for(NICE), data, MF_NOW)
        assert exc.value.reason is Reason.NO_WARNING_MARKER


def test_meteo_france_reissues_replace_and_day_splits_merge() -> None:
    mirror = mirror_for(NICE)
    day1 = meteo_france(
        "MF-1",
        "2022-08-10T16:00:00+02:00",
        "2022-08-10T16:00:00+02:00",
        "2022-08-11T00:00:00+02:00",
    )
    first = decide(mirror, day1, MF_NOW)
    id1 = commit(mirror, first, MF_NOW)
    day2 = meteo_france(
        "MF-2",
        "2022-08-10T16:00:05+02:00",
        "2022-08-11T00:00:00+02:00",
        "2022-08-11T12:00:00+02:00",
    )
    merged = decide(mirror, day2, MF_NOW)
    assert Reason.DAY_SPLIT_MERGED in flags_of(merged)
    assert merged.refs == (id1,) and merged.record is not None
    assert merged.record.ends == ts("2022-08-11T12:00:00+02:00")
    assert merged.record.onset == ts("2022-08-10T16:00:00+02:00")
    id2 = commit(mirror, merged, MF_NOW)
    reissue = meteo_france(
        "MF-3",
        "2022-08-10T18:00:00+02:00",
        "2022-08-10T18:00:00+02:00",
        "2022-08-11T12:00:00+02:00",
    )
    replaced = decide(mirror, reissue, MF_NOW + 3600)
    assert Reason.REISSUE_REPLACED in flags_of(replaced)
    assert [t.mirror_id for t in replaced.tombstones] == [id2]
    commit(mirror, replaced, MF_NOW + 3600)
    live = [r for r in mirror.state.records() if not r.retracted]
    assert len(live) == 1 and live[0].key.identifier == "MF-3"
    older = meteo_france(
        "MF-0",
        "2022-08-10T15:00:00+02:00",
        "2022-08-10T16:00:00+02:00",
        "2022-08-11T00:00:00+02:00",
    )
    with pytest.raises(CapRejected) as exc:
        decide(mirror, older, MF_NOW + 3600)
    assert exc.value.reason is Reason.ALREADY_SUPERSEDED


def test_state_round_trips_through_json() -> None:
    mirror = mirror_for(SEVESO_ZONE)
    commit(mirror, decide(mirror, seveso(0), SEVESO_NOW), SEVESO_NOW)
    commit(mirror, decide(mirror, seveso(3), SEVESO_NOW), SEVESO_NOW)
    import json

    again = BridgeState.from_json(json.loads(mirror.state.dumps()))
    assert again.to_json() == mirror.state.to_json()
    assert CapKey(SENDER, "FR-EX-2026-9999", ts("2026-01-20T08:58:00+01:00")) in again.cancelled


# --- settings -------------------------------------------------------------------------------


def test_bridge_settings_from_config_toml(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        """
language = "fr"
[zone]
zone_id = "3f2a9c01"
name = "Quartier"
[bridge]
poll_interval_s = 120
folders = ["/media/cap"]
[bridge.area]
circle = { lat = 49.443, lon = 1.085, radius_km = 3 }
geocodes = ["NUTS3:FRD22"]
[[bridge.source]]
name = "MeteoAlarm France"
url = "https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-france"
""",
        encoding="utf-8",
    )
    settings = load_bridge_settings(tmp_path, language="fr")
    assert settings.poll_interval_s == 120 and settings.languages == ("fr", "en")
    (source,) = settings.sources
    assert source.hosts == frozenset({"feeds.meteoalarm.org"})
    assert settings.area.circles == (Circle(49.443, 1.085, 3.0),)
    assert not settings.allow_http_loopback  # config.toml cannot set it


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"area": {"geocodes": ["FR1"]}}, "nothing to read"),
        ({"source": [{"name": "x", "url": "https://a.example/"}]}, "[bridge.area] is empty"),
        (
            {"area": {"geocodes": ["FR1"]}, "source": [{"name": "x", "url": "http://a.example/"}]},
            "https:// URL",
        ),
        (
            {"area": {"circle": {"lat": 91, "lon": 0, "radius_km": 1}}, "folders": ["/x"]},
            "latitude",
        ),
        ({"area": {"geocodes": ["FR1"]}, "folders": ["/x"], "poll_interval_s": 5}, "from 60"),
    ],
)
def test_bad_bridge_settings_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(BridgeConfigError) as exc:
        parse_bridge_table(table, path="config.toml", language="en")
    assert message in str(exc.value)


def test_no_bridge_table(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[zone]\nzone_id = "3f2a9c01"\nname = "Q"\n')
    with pytest.raises(BridgeConfigError, match=r"no \[bridge\] table"):
        load_bridge_settings(tmp_path, language="en")
    (tmp_path / "bridge.toml").write_text(
        '[bridge]\nfolders = ["/x"]\n[bridge.area]\ngeocodes = ["EMMA_ID:FR055"]\n'
    )
    assert load_bridge_settings(tmp_path, language="en").folders == (Path("/x"),)
