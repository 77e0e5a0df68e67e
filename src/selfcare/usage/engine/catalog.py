"""The catalog as the rater sees it: lookup tables and price plans, built once per batch."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from selfcare.usage.engine.classify import DestinationClassifier
from selfcare.usage.engine.pricing import PricePlan, choose_plan, covered_classes

BLACK_LIST_KIND = "black_list"
NO_PERIOD = "none"


@dataclass(frozen=True, slots=True)
class AllowanceInfo:
    id: int
    usage_kind: str
    amount: int
    usage_classes: tuple[str, ...]  # as in the catalog (empty: the default coverage)
    covers: frozenset[str]
    zone_id: int | None


@dataclass(frozen=True, slots=True)
class TariffInfo:
    id: int
    fee_period: str
    voice_rounding: str
    data_rounding_bytes: int
    allowances: tuple[AllowanceInfo, ...]


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    id: int
    kind: str
    fee_period: str
    validity_days: int | None
    allowances: tuple[AllowanceInfo, ...]


@dataclass
class RatingCatalog:
    classifier: DestinationClassifier
    zone_ids: dict[str, int]  # roaming zone code -> id
    tariffs: dict[int, TariffInfo]
    services: dict[int, ServiceInfo]
    rates: dict[int, dict[tuple[str, str, int | None], int]]
    _plans: dict[tuple[int, str, bool, str, int | None], PricePlan] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Any) -> RatingCatalog:
        """Build from `selfcare.catalog.queries.get_rating_catalog_rows()`."""
        by_tariff: dict[int, list[AllowanceInfo]] = defaultdict(list)
        by_service: dict[int, list[AllowanceInfo]] = defaultdict(list)
        for row in rows.allowances:
            classes = tuple(row["usage_classes"] or ())
            info = AllowanceInfo(
                id=row["id"],
                usage_kind=row["usage_kind"],
                amount=row["amount"],
                usage_classes=classes,
                covers=covered_classes(classes, row["zone_id"]),
                zone_id=row["zone_id"],
            )
            if row["tariff_id"] is not None:
                by_tariff[row["tariff_id"]].append(info)
            else:
                by_service[row["service_id"]].append(info)
        rates: dict[int, dict[tuple[str, str, int | None], int]] = defaultdict(dict)
        for row in rows.rates:
            rates[row["tariff_id"]][(row["usage_kind"], row["usage_class"], row["zone_id"])] = row[
                "price_minor"
            ]
        return cls(
            classifier=DestinationClassifier(rows.number_ranges, rows.international_prefixes),
            zone_ids={row["code"]: row["id"] for row in rows.zones if row["kind"] == "roaming"},
            tariffs={
                row["id"]: TariffInfo(
                    id=row["id"],
                    fee_period=row["fee_period"],
                    voice_rounding=row["voice_rounding"],
                    data_rounding_bytes=row["data_rounding_bytes"],
                    allowances=tuple(by_tariff.get(row["id"], ())),
                )
                for row in rows.tariffs
            },
            services={
                row["id"]: ServiceInfo(
                    id=row["id"],
                    kind=row["kind"],
                    fee_period=row["fee_period"],
                    validity_days=row["validity_days"],
                    allowances=tuple(by_service.get(row["id"], ())),
                )
                for row in rows.services
            },
            rates=dict(rates),
        )

    def plan(
        self, tariff_id: int, usage_kind: str, incoming: bool, usage_class: str, zone_id: int | None
    ) -> PricePlan:
        key = (tariff_id, usage_kind, incoming, usage_class, zone_id)
        plan = self._plans.get(key)
        if plan is None:
            tariff = self.tariffs[tariff_id]
            plan = choose_plan(
                usage_kind=usage_kind,
                incoming=incoming,
                usage_class=usage_class,
                zone_id=zone_id,
                voice_rounding=tariff.voice_rounding,
                data_rounding_bytes=tariff.data_rounding_bytes,
                rates=self.rates.get(tariff_id, {}),
            )
            self._plans[key] = plan
        return plan

    def black_list_service_ids(self) -> set[int]:
        return {sid for sid, service in self.services.items() if service.kind == BLACK_LIST_KIND}
