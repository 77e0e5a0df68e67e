"""The operator's catalog (DESIGN.md §7): tariffs, services (options), allowances, rates, zones and
number ranges. Names and descriptions are translatable: a JSON object of language code → text.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from selfcare.kit import clock
from selfcare.kit.i18n import pick_translation


def _empty_texts() -> dict[str, str]:
    return {}


class TranslatedNameMixin(models.Model):
    name = models.JSONField(_("name"), default=_empty_texts, help_text=_("Text per language code."))
    description = models.JSONField(_("description"), default=_empty_texts, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name or getattr(self, "code", "") or str(self.pk)

    @property
    def display_name(self) -> str:
        return pick_translation(self.name)

    @property
    def display_description(self) -> str:
        return pick_translation(self.description)


class FeePeriod(models.TextChoices):
    NONE = "none", _("No recurring fee")
    DAILY = "daily", _("Daily")
    MONTHLY = "monthly", _("Monthly")


class UsageKind(models.TextChoices):
    VOICE = "voice", _("Voice")
    SMS = "sms", _("SMS")
    DATA = "data", _("Data")


class UsageClass(models.TextChoices):
    ON_NET = "on_net", _("On-net")
    OFF_NET = "off_net", _("Other mobile networks")
    LANDLINE = "landline", _("Landline")
    INTERNATIONAL = "international", _("International")
    ROAMING = "roaming", _("Roaming")
    HOME = "home", _("Home network")  # data at home has no destination class


class VoiceRounding(models.TextChoices):
    PER_SECOND = "per_second", _("Per second")
    PER_MINUTE = "per_minute", _("Per started minute")


class DataRounding(models.IntegerChoices):
    PER_KB = 1024, _("Per KB")
    PER_100KB = 102_400, _("Per 100 KB")
    PER_MB = 1_048_576, _("Per MB")


class Region(TranslatedNameMixin):
    code = models.SlugField(_("code"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]


class ZoneKind(models.TextChoices):
    INTERNATIONAL = "international", _("International destinations")
    ROAMING = "roaming", _("Roaming")


class Zone(TranslatedNameMixin):
    """A group of countries priced alike, for calls abroad or for roaming."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ZoneKind.choices)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["kind", "code"]


class ZonePrefix(models.Model):
    """A dialling prefix (E.164 digits without '+') that belongs to a zone; the longest match wins."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="prefixes")
    prefix = models.CharField(_("prefix"), max_length=15)

    class Meta:
        verbose_name = _("zone prefix")
        verbose_name_plural = _("zone prefixes")
        constraints = [models.UniqueConstraint(fields=["zone", "prefix"], name="catalog_zoneprefix_unique")]
        indexes = [models.Index(fields=["prefix"], name="catalog_zoneprefix_prefix")]

    def __str__(self) -> str:
        return f"+{self.prefix} → {self.zone.code}"


class RangeKind(models.TextChoices):
    OWN_MOBILE = "own_mobile", _("Our mobile numbers")
    OTHER_MOBILE = "other_mobile", _("Other operators' mobile numbers")
    LANDLINE = "landline", _("Landline numbers")


class NumberRange(models.Model):
    """Domestic numbering: which prefixes are ours (on-net), other mobile networks, or landlines."""

    prefix = models.CharField(
        _("prefix"), max_length=15, unique=True, help_text=_("E.164 digits without '+'.")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RangeKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="ranges")
    holder = models.CharField(_("number holder"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("number range")
        verbose_name_plural = _("number ranges")
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"+{self.prefix} ({self.get_kind_display()})"


class OfferWindow(models.Model):
    """When a tariff or service may be chosen: open and active, and inside [available_from,
    available_until) when those are set. Scheduling a price change = a new version available from the
    day, the old one available until it (docs/backoffice.md); lines already on it keep it."""

    available_from = models.DateTimeField(
        _("available from"), null=True, blank=True, help_text=_("Empty: already available.")
    )
    available_until = models.DateTimeField(
        _("available until"), null=True, blank=True, help_text=_("Empty: no end. The end is exclusive.")
    )

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.available_from and self.available_until and self.available_until <= self.available_from:
            raise ValidationError({"available_until": _("The end must be after the start.")})

    def is_offered(self, at: Any = None) -> bool:
        moment = at or clock.now()
        return bool(
            getattr(self, "is_open", False)
            and getattr(self, "is_active", False)
            and (self.available_from is None or self.available_from <= moment)
            and (self.available_until is None or moment < self.available_until)
        )


class Tariff(TranslatedNameMixin, OfferWindow):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    fee_minor = models.BigIntegerField(_("recurring fee (minor units)"), default=0)
    fee_period = models.CharField(
        _("fee period"), max_length=8, choices=FeePeriod.choices, default=FeePeriod.MONTHLY
    )
    change_fee_minor = models.BigIntegerField(
        _("change fee (minor units)"),
        default=0,
        help_text=_("Charged when a subscriber changes to this tariff within the change-fee window."),
    )
    voice_rounding = models.CharField(
        _("voice rounding"), max_length=12, choices=VoiceRounding.choices, default=VoiceRounding.PER_MINUTE
    )
    data_rounding_bytes = models.IntegerField(
        _("data rounding"), choices=DataRounding.choices, default=DataRounding.PER_100KB
    )
    is_open = models.BooleanField(_("open for new subscribers"), default=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Archived tariffs keep their history.")
    )
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_minor__gte=0), name="catalog_tariff_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(change_fee_minor__gte=0), name="catalog_tariff_change_fee_not_negative"
            ),
        ]


class ServiceKind(models.TextChoices):
    GENERIC = "generic", _("Option")
    BLACK_LIST = "black_list", _("Black list")
    DATA_PACK = "data_pack", _("Data pack")
    VOICE_PACK = "voice_pack", _("Minutes pack")
    SMS_PACK = "sms_pack", _("SMS pack")
    ROAMING_PACK = "roaming_pack", _("Roaming pack")
    CALLER_ID = "caller_id", _("Caller ID")


class Service(TranslatedNameMixin, OfferWindow):
    """An option a subscriber connects on top of the tariff."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ServiceKind.choices, default=ServiceKind.GENERIC
    )
    connect_fee_minor = models.BigIntegerField(_("connection fee (minor units)"), default=0)
    fee_minor = models.BigIntegerField(_("recurring fee (minor units)"), default=0)
    fee_period = models.CharField(
        _("fee period"), max_length=8, choices=FeePeriod.choices, default=FeePeriod.NONE
    )
    validity_days = models.PositiveIntegerField(
        _("validity (days)"),
        null=True,
        blank=True,
        help_text=_("For one-time packs: how long what it adds lasts."),
    )
    allowed_tariffs = models.ManyToManyField(
        Tariff,
        blank=True,
        related_name="allowed_services",
        verbose_name=_("allowed tariffs"),
        help_text=_("Empty: every tariff."),
    )
    requires = models.ManyToManyField(
        "self", blank=True, symmetrical=False, related_name="required_by", verbose_name=_("requires")
    )
    excludes = models.ManyToManyField("self", blank=True, symmetrical=True, verbose_name=_("excludes"))
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'Kind-specific settings, e.g. {"capacity": 200, "entry_fee_minor": 100} for the black list.'
        ),
    )
    is_open = models.BooleanField(_("open for connection"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fee_minor__gte=0) & models.Q(connect_fee_minor__gte=0),
                name="catalog_service_fees_not_negative",
            ),
        ]

    def parameter(self, name: str, default: Any = None) -> Any:
        return (self.parameters or {}).get(name, default)


class Allowance(models.Model):
    """What a tariff or a service includes per period: seconds of voice, SMS, or bytes of data."""

    tariff = models.ForeignKey(
        Tariff, on_delete=models.CASCADE, null=True, blank=True, related_name="allowances"
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="allowances"
    )
    usage_kind = models.CharField(_("usage kind"), max_length=8, choices=UsageKind.choices)
    amount = models.BigIntegerField(
        _("amount"), help_text=_("Seconds for voice, messages for SMS, bytes for data.")
    )
    usage_classes = models.JSONField(
        _("usage classes"),
        default=list,
        blank=True,
        help_text=_("Which classes it covers; empty: every home class (not international, not roaming)."),
    )
    zone = models.ForeignKey(
        Zone,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("For roaming packs: where it works."),
    )

    class Meta:
        verbose_name = _("allowance")
        verbose_name_plural = _("allowances")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(tariff__isnull=False, service__isnull=True))
                | (models.Q(tariff__isnull=True, service__isnull=False)),
                name="catalog_allowance_one_owner",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="catalog_allowance_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_usage_kind_display()} {self.amount}"


class Rate(models.Model):
    """The price of usage beyond allowances: per minute (voice), per message (SMS), per MB (data)."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="rates")
    usage_kind = models.CharField(_("usage kind"), max_length=8, choices=UsageKind.choices)
    usage_class = models.CharField(_("usage class"), max_length=16, choices=UsageClass.choices)
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True)
    price_minor = models.BigIntegerField(_("price per unit (minor units)"))

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        constraints = [
            # Two partial constraints because SQLite (and PostgreSQL before 15) treat NULLs as distinct.
            models.UniqueConstraint(
                fields=["tariff", "usage_kind", "usage_class", "zone"],
                condition=models.Q(zone__isnull=False),
                name="catalog_rate_unique_zoned",
            ),
            models.UniqueConstraint(
                fields=["tariff", "usage_kind", "usage_class"],
                condition=models.Q(zone__isnull=True),
                name="catalog_rate_unique_unzoned",
            ),
            models.CheckConstraint(condition=models.Q(price_minor__gte=0), name="catalog_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.tariff.code} {self.usage_kind}/{self.usage_class}: {self.price_minor}"
