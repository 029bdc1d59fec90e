"""The French catalogue of :func:`protocol.i18n.tr`: English msgid → French text.

Each French text has exactly the ``{placeholders}`` of its msgid. French typography: a space
before ":", ";", "?" and "!", and « » around quoted values (plain spaces, not non-breaking
ones: handsets and terminals render them unevenly and they cost two bytes).

``tests/protocol/test_i18n.py`` checks that every ``tr("literal", ...)`` call in ``node/``,
``tui/``, ``radio/`` and ``protocol/`` has its entry here, with the same placeholders, and
that no entry is stale. A msgid that code passes to ``tr`` indirectly (not as a literal)
goes in :data:`EXTRA_MSGIDS` as well, so the test keeps it.

Keep entries sorted by module, then in order of appearance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["EXTRA_MSGIDS", "FR"]

FR: Final[Mapping[str, str]] = {
    # protocol/i18n.py
    'unrecognised {what} "{value}"; accepted values: {choices}': (
        "« {value} » n'est pas reconnu comme {what} ; valeurs acceptées : {choices}"
    ),
    "{prefix}: {detail}": "{prefix} : {detail}",
}

#: Msgids used without a literal ``tr("...")`` call (kept by the staleness check).
EXTRA_MSGIDS: Final[tuple[str, ...]] = ()
