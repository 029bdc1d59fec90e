"""The one exception hierarchy of entraide.

Every error says what was wrong and whose fault it is:

- ``PeerError``: bytes or messages that came from somewhere else (a peer, a radio, a file
  carried by hand) broke a rule. The right reaction is to drop the input, log the reason
  and carry on; nothing is stored or forwarded.
- ``LocalError``: our own side got something wrong (a caller passed bad arguments, the user
  asked for something impossible, the key file or the store is unusable). The message tells
  the user what to do.

Any other exception escaping entraide code is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Self

__all__ = [
    "BadSignature",
    "DecodeError",
    "EntraideError",
    "ExpiredMessage",
    "FrameError",
    "FutureMessage",
    "InvalidCharter",
    "InvalidMessage",
    "LocalError",
    "NonCanonical",
    "Oversize",
    "PeerError",
    "SyncError",
    "Truncated",
    "Unauthorized",
    "UnknownKeyRef",
    "UnknownKind",
    "UnsupportedVersion",
    "UsageError",
    "WrongZone",
]


class EntraideError(Exception):
    """Root of every error entraide raises on purpose."""

    #: Short stable identifier, used in logs, JSON output and the control API.
    code = "error"
    #: "peer" when remote input was at fault, "local" when we were.
    fault = "local"
    #: For errors a user reads: the English text with {placeholders} (a msgid of
    #: protocol/i18n.py) and its values. ``str(exc)`` is the English text filled in.
    msgid: str | None = None
    params: Mapping[str, object] = MappingProxyType({})

    @classmethod
    def tr(cls, msgid: str, /, **params: object) -> Self:
        """This error with a message that :func:`protocol.i18n.error_text` can translate."""
        exc = cls(msgid.format(**params))
        exc.msgid, exc.params = msgid, MappingProxyType(params)
        return exc


class PeerError(EntraideError):
    """Input from elsewhere broke a protocol rule; drop it and carry on."""

    code = "peer-error"
    fault = "peer"


class DecodeError(PeerError):
    """The bytes are not a well-formed envelope."""

    code = "malformed"


class Truncated(DecodeError):
    """The bytes end before the envelope does."""

    code = "truncated"


class Oversize(DecodeError):
    """The envelope or one of its fields is larger than the protocol allows."""

    code = "oversize"


class NonCanonical(DecodeError):
    """Well-formed CBOR, but not the one canonical encoding of its value."""

    code = "non-canonical"


class UnsupportedVersion(DecodeError):
    """An envelope version this implementation does not speak."""

    code = "unsupported-version"


class BadSignature(PeerError):
    """The signature does not verify over the bytes received: forged or corrupted."""

    code = "bad-signature"


class InvalidMessage(PeerError):
    """Well-formed, but the content breaks a rule of the envelope or of its kind."""

    code = "invalid"


class UnknownKind(InvalidMessage):
    """A kind number this implementation does not know (or reserves for later)."""

    code = "unknown-kind"


class ExpiredMessage(InvalidMessage):
    """The message's expiry time has passed."""

    code = "expired"


class FutureMessage(InvalidMessage):
    """Created further in the future than the allowed clock skew."""

    code = "future-dated"


class WrongZone(InvalidMessage):
    """The message belongs to another aid zone."""

    code = "wrong-zone"


class Unauthorized(InvalidMessage):
    """The author is not allowed to send this (e.g. an official mirror from a non-bridge)."""

    code = "unauthorized"


class InvalidCharter(PeerError):
    """A zone charter (a file or a text handed over in person) is damaged, forged or breaks
    a rule: get it again from the coordinator."""

    code = "invalid-charter"


class LocalError(EntraideError):
    """Our side got something wrong; the message says how to fix it."""

    code = "local-error"
    fault = "local"


class UsageError(LocalError):
    """A caller (a user at the CLI, or code) asked for something invalid."""

    code = "usage"


class FrameError(DecodeError):
    """A radio frame breaks the framing rules (SPEC.md section 11)."""

    code = "bad-frame"


class UnknownKeyRef(FrameError):
    """A radio frame abbreviates its author's key to a reference this node cannot resolve
    (no key, or several, of the zone start with it). ``key_ref`` is the reference (a node
    may ask for it with a WANT frame); ``compact`` the compact envelope, to restore once the
    key is known."""

    code = "unknown-key-ref"
    key_ref: bytes = b""
    compact: bytes = b""


class SyncError(PeerError):
    """A peer broke the sync protocol (SPEC.md section 10): a malformed, unexpected or
    oversized frame, a count beyond the session's limits, or it gave up itself."""

    code = "sync"
