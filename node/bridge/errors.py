"""Why the bridge refused something: one reason code per rule, and the errors that carry it.

A feed that sends garbage is a remote party's bad input: :class:`CapRejected` (a document or
an index), :class:`FetchFailed` (the transfer itself) and :class:`LinkRefused` (a link the
bridge will not follow) are :class:`~protocol.errors.PeerError`\\ s. Each carries a
:class:`Reason`, stable in logs and JSON, and a message that names the thing and the rule.
Problems of our own making (the ``[bridge]`` settings) are :class:`BridgeConfigError`, a
:class:`~protocol.errors.LocalError`.

Some reasons are not refusals but **flags**: the document was used, and something in it was
repaired or ignored (an unclosed polygon closed, a foreign reference ignored). The bridge
logs them like refusals.
"""

from __future__ import annotations

import enum

from protocol.errors import LocalError, PeerError

__all__ = [
    "BridgeConfigError",
    "CapRejected",
    "FetchFailed",
    "LinkRefused",
    "Reason",
]


class Reason(enum.StrEnum):
    """Every rule the bridge applies to what it reads, by its code."""

    # --- transfer (FetchFailed) -----------------------------------------------------------
    HTTP_STATUS = "http-status"  # not 200 (or 304)
    TIMEOUT = "timeout"  # connect, read or the whole transfer took too long
    NETWORK = "network"  # no connection, TLS failure, connection reset
    TOO_MANY_REDIRECTS = "too-many-redirects"
    # --- links (LinkRefused) --------------------------------------------------------------
    BAD_URL = "bad-url"  # not a URL, credentials in it, no host
    SCHEME_NOT_ALLOWED = "scheme-not-allowed"  # file:, javascript:, http: ...
    HOST_NOT_ALLOWED = "host-not-allowed"  # not on the source's allow-list
    # --- parsing (CapRejected) ------------------------------------------------------------
    EMPTY = "empty"
    TOO_LARGE = "too-large"  # the document is over its size cap
    FIELD_TOO_LARGE = "field-too-large"  # one element's text is over its cap
    DOCTYPE_FORBIDDEN = "doctype-forbidden"  # DTD, entities: XXE, billion laughs
    HTML_PAGE = "html-page"  # an error page or a captive portal instead of XML
    NOT_WELL_FORMED = "not-well-formed"  # truncated, broken
    TOO_DEEP = "too-deep"
    TOO_MANY_ELEMENTS = "too-many-elements"
    NO_NAMESPACE = "no-namespace"  # a CAP-shaped <alert> without the CAP namespace
    WRONG_NAMESPACE = "wrong-namespace"  # another namespace (cap:1.3 does not exist)
    NOT_CAP = "not-cap"  # the root is not a CAP <alert>
    NOT_A_FEED = "not-a-feed"  # an index that is neither Atom nor RSS
    # --- meaning (CapRejected) ------------------------------------------------------------
    MISSING_ELEMENT = "missing-element"
    DUPLICATE_ELEMENT = "duplicate-element"  # two <identifier>, two <status>...
    BAD_VALUE = "bad-value"  # not one of the values CAP allows
    BAD_DATE = "bad-date"
    BAD_REFERENCES = "bad-references"
    NO_INFO = "no-info"  # an Alert or Update with nothing to show
    STATUS_NOT_SHOWN = "status-not-shown"  # System, Draft
    SCOPE_NOT_PUBLIC = "scope-not-public"  # Restricted, Private
    MSGTYPE_IGNORED = "msgtype-ignored"  # Ack, Error
    EXPIRED = "expired"
    NO_WARNING_MARKER = "no-warning-marker"  # expires <= onset, or a green level
    NO_USABLE_AREA = "no-usable-area"
    OUTSIDE_AREA = "outside-area"
    FOREIGN_CANCEL = "foreign-cancel"  # a Cancel naming only another sender's alerts
    DUPLICATE = "duplicate"  # this CAP message is already mirrored
    ALREADY_SUPERSEDED = "already-superseded"  # a later message replaced it first
    ALREADY_CANCELLED = "already-cancelled"  # a Cancel for it came first
    MIRROR_FAILED = "mirror-failed"  # our node refused the mirror (a bug or our clock)
    # --- flags: used, with something repaired or ignored ----------------------------------
    POLYGON_TOO_FEW_POINTS = "polygon-too-few-points"  # dropped; other areas still count
    POLYGON_UNCLOSED = "polygon-unclosed"  # closed by the bridge
    POLYGON_TOO_LARGE = "polygon-too-large"  # too many points: dropped
    BAD_POLYGON = "bad-polygon"  # unreadable or out-of-range coordinates: dropped
    BAD_CIRCLE = "bad-circle"  # dropped
    UNKNOWN_GEOCODE = "unknown-geocode"  # a NUTS3/EMMA_ID code not in the shipped regions
    FOREIGN_REFERENCE = "foreign-reference"  # names another sender: ignored
    SELF_REFERENCE = "self-reference"  # names itself: ignored
    DANGLING_REFERENCE = "dangling-reference"  # names a message the bridge never saw
    UPDATE_WITHOUT_REFERENCES = "update-without-references"  # mirrored as a new alert
    REFERENCES_ON_ALERT = "references-on-alert"  # msgType Alert: references ignored
    MISSING_OPTIONAL = "missing-optional"  # a required but harmless element (category...)
    MISLABELLED_ENCODING = "mislabelled-encoding"  # said UTF-8, was Windows-1252
    CONTROL_CHARACTERS = "control-characters"  # bidi or control characters removed
    TRUNCATED_TEXT = "truncated-text"  # shortened to the mirror's limits
    LIFETIME_CLAMPED = "lifetime-clamped"  # no expiry, or beyond what a mirror may live
    DAY_SPLIT_MERGED = "day-split-merged"  # Meteo-France: next day's part of one warning
    REISSUE_REPLACED = "reissue-replaced"  # Meteo-France: a re-issue under a new identifier
    SKIPPED_LINK = "skipped-link"  # an index entry without a CAP link


class _BridgePeerError(PeerError):
    reason: Reason

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CapRejected(_BridgePeerError):
    """A CAP document or a feed index that the bridge refuses to use."""

    code = "cap-rejected"


class FetchFailed(_BridgePeerError):
    """An official source could not be read (no answer, an error status, too large)."""

    code = "fetch-failed"
    #: The server's Retry-After, in seconds, when it gave one.
    retry_after: float | None = None


class LinkRefused(_BridgePeerError):
    """A link the bridge does not follow: only https on the source's allow-listed hosts."""

    code = "link-refused"


class BridgeConfigError(LocalError):
    """The ``[bridge]`` settings of config.toml are unusable; the message says which."""

    code = "bridge-config"
