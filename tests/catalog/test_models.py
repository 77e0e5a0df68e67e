"""The catalog: translated names and descriptions, and the rules its tables enforce."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from selfcare.catalog.models import Allowance, Rate, Region, UsageClass, UsageKind, Zone, ZoneKind
from tests.factories import make_service, make_tariff

pytestmark = pytest.mark.django_db

NAMES = {"en": "Unlimited", "ru": "Безлимит", "fa": "نامحدود"}


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Unlimited"), ("ru", "Безлимит"), ("fa", "نامحدود")]
)
def test_tariff_name_follows_the_active_language(language, expected):
    # Given a tariff named in three languages, stored and read back
    tariff = make_tariff(code="unlimited", name=NAMES)
    stored = type(tariff).objects.get(pk=tariff.pk)

    # When a language is active, then its name is shown, also by str()
    with translation.override(language):
        assert stored.display_name == expected
        assert str(stored) == expected


def test_missing_translation_falls_back_to_english_and_description_too():
    # Given a service named in English and Russian, described only in Russian
    service = make_service(code="caller-id", name={"en": "Caller ID", "ru": "Определитель номера"})
    service.description = {"ru": "Показывает номер звонящего"}
    service.save()

    # When Persian is active, then the English name and the only description are shown
    with translation.override("fa"):
        assert service.display_name == "Caller ID"
        assert service.display_description == "Показывает номер звонящего"


def test_untranslated_entry_shows_its_code():
    # Given a region without a name, when shown, then its code stands in
    region = Region.objects.create(code="msk", name={})
    assert str(region) == "msk"
    assert region.display_description == ""


def test_service_parameters_have_defaults():
    # Given a black list service with a capacity and no entry fee set
    service = make_service(parameters={"capacity": 200})

    # Then set parameters are read and missing ones give the default
    assert service.parameter("capacity") == 200
    assert service.parameter("entry_fee_minor", 0) == 0


def test_service_exclusion_is_symmetric_and_requirement_is_not():
    # Given a service excluding another and an add-on requiring a base
    small = make_service()
    large = make_service(excludes=[small])
    base = make_service()
    addon = make_service(requires=[base])

    # Then the exclusion is seen from both sides, the requirement only from the add-on
    assert list(small.excludes.all()) == [large]
    assert list(base.requires.all()) == []
    assert list(base.required_by.all()) == [addon]


def test_allowance_belongs_to_exactly_one_owner():
    # Given a tariff and a service
    tariff = make_tariff()
    service = make_service()

    # When an allowance names both owners, or neither, then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        Allowance.objects.create(tariff=tariff, service=service, usage_kind=UsageKind.DATA, amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allowance.objects.create(usage_kind=UsageKind.DATA, amount=1)
    # and an allowance must give something
    with pytest.raises(IntegrityError), transaction.atomic():
        Allowance.objects.create(tariff=tariff, usage_kind=UsageKind.SMS, amount=0)
    assert Allowance.objects.count() == 0


def test_rate_is_unique_per_class_and_zone_even_without_a_zone():
    # Given a tariff with a home off-net voice rate and a roaming rate for one zone
    tariff = make_tariff()
    europe = Zone.objects.create(code="europe", kind=ZoneKind.ROAMING, name={"en": "Europe"})
    Rate.objects.create(
        tariff=tariff, usage_kind=UsageKind.VOICE, usage_class=UsageClass.OFF_NET, price_minor=250
    )
    Rate.objects.create(
        tariff=tariff,
        usage_kind=UsageKind.VOICE,
        usage_class=UsageClass.ROAMING,
        zone=europe,
        price_minor=4900,
    )

    # When either is added a second time, then the database refuses it (NULL zones included)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rate.objects.create(
            tariff=tariff, usage_kind=UsageKind.VOICE, usage_class=UsageClass.OFF_NET, price_minor=1
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Rate.objects.create(
            tariff=tariff,
            usage_kind=UsageKind.VOICE,
            usage_class=UsageClass.ROAMING,
            zone=europe,
            price_minor=1,
        )
    assert Rate.objects.filter(tariff=tariff).count() == 2


def test_negative_prices_and_fees_are_refused():
    # Given a tariff, when negative fees or prices are stored, then the database refuses them
    tariff = make_tariff()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_tariff(fee_minor=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_service(connect_fee_minor=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rate.objects.create(
            tariff=tariff, usage_kind=UsageKind.SMS, usage_class=UsageClass.ON_NET, price_minor=-5
        )
