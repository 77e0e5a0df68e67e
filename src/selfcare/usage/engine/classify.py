"""Where a call or an SMS goes: on-net, another mobile network, a landline, or abroad (by zone).

Domestic number ranges (catalog NumberRange) and international zone prefixes (catalog ZonePrefix of
international zones) form one prefix table; the longest matching prefix wins, and on an equal prefix
the domestic range wins. Roaming is not a property of the number dialled but of where the line is:
any usage made while the record carries a roaming zone is class `roaming` in that zone.
"""

from __future__ import annotations

from collections.abc import Iterable

ON_NET = "on_net"
OFF_NET = "off_net"
LANDLINE = "landline"
INTERNATIONAL = "international"
ROAMING = "roaming"
HOME = "home"

RANGE_KIND_TO_CLASS = {"own_mobile": ON_NET, "other_mobile": OFF_NET, "landline": LANDLINE}

Destination = tuple[str, int | None]  # (usage class, zone id)


class DestinationClassifier:
    """Longest-prefix classification of E.164 digits (no '+')."""

    __slots__ = ("_lengths", "_table")

    def __init__(self, domestic: Iterable[tuple[str, str]], international: Iterable[tuple[str, int]]) -> None:
        """`domestic`: (prefix, RangeKind value); `international`: (prefix, international zone id)."""
        table: dict[str, Destination] = {}
        for prefix, zone_id in international:
            table[prefix] = (INTERNATIONAL, zone_id)
        for prefix, range_kind in domestic:
            table[prefix] = (RANGE_KIND_TO_CLASS[range_kind], None)
        self._table = table
        self._lengths = sorted({len(prefix) for prefix in table}, reverse=True)

    def classify(self, digits: str) -> Destination | None:
        """The class and zone of a number, or None when no prefix matches."""
        table = self._table
        for length in self._lengths:
            if length <= len(digits):
                hit = table.get(digits[:length])
                if hit is not None:
                    return hit
        return None

    def is_own(self, digits: str) -> bool:
        hit = self.classify(digits)
        return hit is not None and hit[0] == ON_NET
