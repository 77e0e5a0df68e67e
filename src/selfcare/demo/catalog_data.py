"""The demo operator's catalog: regions, numbering, zones, tariffs and services, in en, ru and fa.

Plain data (no database): the generator writes it and also prices the simulated usage from it, so
the money in the demo's history always agrees with the catalog a person sees in the back office.
Amounts are minor units of the operator's currency (kopecks for the default RUB).
"""

# ruff: noqa: RUF001 - Cyrillic and Persian letters are the content here, not look-alikes.

from __future__ import annotations

from dataclasses import dataclass, field

Texts = dict[str, str]

KB = 1024
MB = 1024 * KB
GB = 1024 * MB


def texts(en: str, ru: str, fa: str) -> Texts:
    return {"en": en, "ru": ru, "fa": fa}


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: Texts
    own_prefix: str  # E.164 digits of our mobile numbers issued in this region
    landline_prefixes: tuple[str, ...]
    weight: int  # share of subscribers living there


REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec("moscow", texts("Moscow", "Москва", "مسکو"), "7900", ("7495", "7499"), 40),
    RegionSpec("spb", texts("Saint Petersburg", "Санкт-Петербург", "سن پترزبورگ"), "7901", ("7812",), 22),
    RegionSpec("kazan", texts("Kazan", "Казань", "قازان"), "7902", ("7843",), 14),
    RegionSpec("novosibirsk", texts("Novosibirsk", "Новосибирск", "نووسیبیرسک"), "7904", ("7383",), 12),
    RegionSpec("yekaterinburg", texts("Yekaterinburg", "Екатеринбург", "یکاترینبورگ"), "7908", ("7343",), 12),
)

OTHER_MOBILE_RANGES: tuple[tuple[str, str], ...] = (
    ("7916", "MTS"),
    ("7915", "MTS"),
    ("7925", "MegaFon"),
    ("7926", "MegaFon"),
    ("7903", "Beeline"),
    ("7905", "Beeline"),
    ("7999", "Yota"),
)


@dataclass(frozen=True)
class ZoneSpec:
    code: str
    kind: str  # catalog.models.ZoneKind value
    name: Texts
    prefixes: tuple[str, ...]


_CIS = ("375", "374", "994", "996", "992", "998", "993", "373", "76", "77")
_EUROPE = (
    "30", "31", "32", "33", "34", "36", "39", "41", "43", "44", "45", "46", "47", "48", "49",
    "351", "353", "358", "420", "421", "90", "995",
)  # fmt: skip
_WORLD = ("1", "20", "27", "52", "55", "61", "66", "81", "82", "84", "86", "91", "98", "971", "972")

ZONES: tuple[ZoneSpec, ...] = (
    ZoneSpec("intl-cis", "international", texts("CIS countries", "Страны СНГ", "کشورهای مشترک‌المنافع"), _CIS),
    ZoneSpec(
        "intl-europe",
        "international",
        texts("Europe and Turkey", "Европа и Турция", "اروپا و ترکیه"),
        _EUROPE,
    ),
    ZoneSpec(
        "intl-world", "international", texts("Rest of the world", "Остальной мир", "سایر کشورها"), _WORLD
    ),
    ZoneSpec(
        "roam-cis", "roaming", texts("Roaming: CIS", "Роуминг: СНГ", "رومینگ: کشورهای مشترک‌المنافع"), _CIS
    ),
    ZoneSpec("roam-europe", "roaming", texts("Roaming: Europe", "Роуминг: Европа", "رومینگ: اروپا"), _EUROPE),
    ZoneSpec(
        "roam-world", "roaming", texts("Roaming: world", "Роуминг: весь мир", "رومینگ: سایر کشورها"), _WORLD
    ),
)

INTERNATIONAL_ZONES = ("intl-cis", "intl-europe", "intl-world")
ROAMING_ZONES = ("roam-cis", "roam-europe", "roam-world")

# Prices of usage beyond allowances, per unit: voice per minute, SMS per message, data per MB.
# Zoned classes (international, roaming) have one price per zone.
BASE_RATES: dict[tuple[str, str], int] = {
    ("voice", "on_net"): 150,
    ("voice", "off_net"): 250,
    ("voice", "landline"): 300,
    ("sms", "on_net"): 150,
    ("sms", "off_net"): 250,
    ("sms", "international"): 900,
    ("data", "home"): 100,
}
ZONED_RATES: dict[tuple[str, str], dict[str, int]] = {
    ("voice", "international"): {"intl-cis": 1500, "intl-europe": 3500, "intl-world": 5500},
    ("voice", "roaming"): {"roam-cis": 2900, "roam-europe": 6900, "roam-world": 12900},
    ("sms", "roaming"): {"roam-cis": 1900, "roam-europe": 2900, "roam-world": 3900},
    ("data", "roaming"): {"roam-cis": 3000, "roam-europe": 9000, "roam-world": 25000},
}


@dataclass(frozen=True)
class TariffSpec:
    code: str
    name: Texts
    description: Texts
    fee_minor: int
    fee_period: str  # catalog.models.FeePeriod value
    voice_s: int  # allowance per fee period (0: none)
    sms: int
    data_bytes: int
    # Scales the home prices beyond the allowance (bundles price overage a little lower).
    home_rate_percent: int = 100
    # Data beyond a bundle costs about what an extra pack would (per MB), not the pay-as-you-go price.
    data_mb_minor: int | None = None
    voice_rounding: str = "per_minute"
    is_open: bool = True
    change_fee_minor: int = 0
    sort_order: int = 0

    def rate_minor(self, usage_kind: str, usage_class: str, zone: str | None = None) -> int:
        if zone is not None:
            return ZONED_RATES[(usage_kind, usage_class)][zone]
        if (usage_kind, usage_class) == ("data", "home") and self.data_mb_minor is not None:
            return self.data_mb_minor
        return BASE_RATES[(usage_kind, usage_class)] * self.home_rate_percent // 100


TARIFFS: tuple[TariffSpec, ...] = (
    TariffSpec(
        "simple",
        texts("Simple", "Простой", "ساده"),
        texts(
            "No monthly fee: pay only for the minutes, messages and megabytes you use.",
            "Без абонентской платы: платите только за минуты, сообщения и мегабайты, которыми пользуетесь.",
            "بدون هزینه ماهانه: فقط برای دقیقه‌ها، پیامک‌ها و مگابایت‌هایی که مصرف می‌کنید بپردازید.",
        ),
        fee_minor=0,
        fee_period="none",
        voice_s=0,
        sms=0,
        data_bytes=0,
        voice_rounding="per_second",
        sort_order=10,
    ),
    TariffSpec(
        "smart-s",
        texts("Smart S", "Смарт S", "هوشمند S"),
        texts(
            "300 minutes, 100 SMS and 10 GB every month.",
            "300 минут, 100 SMS и 10 ГБ каждый месяц.",
            "۳۰۰ دقیقه، ۱۰۰ پیامک و ۱۰ گیگابایت در هر ماه.",
        ),
        fee_minor=45_000,
        fee_period="monthly",
        voice_s=300 * 60,
        sms=100,
        data_bytes=10 * GB,
        home_rate_percent=80,
        data_mb_minor=20,
        sort_order=20,
    ),
    TariffSpec(
        "smart-m",
        texts("Smart M", "Смарт M", "هوشمند M"),
        texts(
            "800 minutes, 300 SMS and 30 GB every month.",
            "800 минут, 300 SMS и 30 ГБ каждый месяц.",
            "۸۰۰ دقیقه، ۳۰۰ پیامک و ۳۰ گیگابایت در هر ماه.",
        ),
        fee_minor=75_000,
        fee_period="monthly",
        voice_s=800 * 60,
        sms=300,
        data_bytes=30 * GB,
        home_rate_percent=80,
        data_mb_minor=20,
        sort_order=30,
    ),
    TariffSpec(
        "smart-xl",
        texts("Smart XL", "Смарт XL", "هوشمند XL"),
        texts(
            "2,000 minutes, 1,000 SMS and 60 GB every month.",
            "2 000 минут, 1 000 SMS и 60 ГБ каждый месяц.",
            "۲٬۰۰۰ دقیقه، ۱٬۰۰۰ پیامک و ۶۰ گیگابایت در هر ماه.",
        ),
        fee_minor=120_000,
        fee_period="monthly",
        voice_s=2000 * 60,
        sms=1000,
        data_bytes=60 * GB,
        home_rate_percent=60,
        data_mb_minor=20,
        sort_order=40,
    ),
    TariffSpec(
        "day-by-day",
        texts("Day by day", "Посуточный", "روزبه‌روز"),
        texts(
            "25 a day: 60 minutes and 1 GB every day.",
            "25 в день: 60 минут и 1 ГБ каждый день.",
            "روزی ۲۵: هر روز ۶۰ دقیقه و ۱ گیگابایت.",
        ),
        fee_minor=2_500,
        fee_period="daily",
        data_mb_minor=30,
        voice_s=60 * 60,
        sms=0,
        data_bytes=1 * GB,
        sort_order=50,
    ),
    TariffSpec(
        "classic-2019",
        texts("Classic 2019", "Классический 2019", "کلاسیک ۲۰۱۹"),
        texts(
            "An archived bundle: 400 minutes, 200 SMS and 5 GB a month. Closed for new subscribers.",
            "Архивный пакет: 400 минут, 200 SMS и 5 ГБ в месяц. Закрыт для новых абонентов.",
            "بسته بایگانی‌شده: ماهانه ۴۰۰ دقیقه، ۲۰۰ پیامک و ۵ گیگابایت. برای مشترکان جدید بسته است.",
        ),
        fee_minor=35_000,
        fee_period="monthly",
        voice_s=400 * 60,
        sms=200,
        data_bytes=5 * GB,
        is_open=False,
        data_mb_minor=30,
        sort_order=60,
    ),
    TariffSpec(
        "business",
        texts("Business", "Бизнес", "کسب‌وکار"),
        texts(
            "For company lines: 1,000 minutes, 300 SMS and 20 GB a month, billed to the company.",
            "Для корпоративных номеров: 1 000 минут, 300 SMS и 20 ГБ в месяц, счёт выставляется компании.",
            "برای خطوط سازمانی: ماهانه ۱٬۰۰۰ دقیقه، ۳۰۰ پیامک و ۲۰ گیگابایت، با صورتحساب به نام شرکت.",
        ),
        fee_minor=60_000,
        fee_period="monthly",
        voice_s=1000 * 60,
        sms=300,
        data_bytes=20 * GB,
        home_rate_percent=70,
        data_mb_minor=20,
        change_fee_minor=0,
        sort_order=70,
    ),
)

TARIFF_BY_CODE = {tariff.code: tariff for tariff in TARIFFS}
BUNDLE_TARIFFS = ("smart-s", "smart-m", "smart-xl", "classic-2019", "business")


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    kind: str  # catalog.models.ServiceKind value
    name: Texts
    description: Texts
    connect_fee_minor: int = 0
    fee_minor: int = 0
    fee_period: str = "none"
    validity_days: int | None = None
    voice_s: int = 0
    sms: int = 0
    data_bytes: int = 0
    zone: str | None = None  # roaming packs: where their allowances work
    parameters: dict[str, int] = field(default_factory=dict)
    allowed_tariffs: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    sort_order: int = 0


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "black-list",
        "black_list",
        texts("Black list", "Чёрный список", "لیست سیاه"),
        texts(
            "Calls and SMS from the numbers you list do not reach you. Up to 200 numbers.",
            "Звонки и SMS с номеров из вашего списка не доходят до вас. До 200 номеров.",
            "تماس‌ها و پیامک‌های شماره‌هایی که در فهرست می‌گذارید به شما نمی‌رسد. تا ۲۰۰ شماره.",
        ),
        fee_minor=150,
        fee_period="daily",
        parameters={"capacity": 200, "entry_fee_minor": 1_000},
        sort_order=10,
    ),
    ServiceSpec(
        "caller-id",
        "caller_id",
        texts("Caller ID", "Определитель номера", "نمایش شماره تماس‌گیرنده"),
        texts(
            "See who is calling before you answer.",
            "Видите, кто звонит, до того как ответите.",
            "پیش از پاسخ دادن ببینید چه کسی تماس می‌گیرد.",
        ),
        sort_order=20,
    ),
    ServiceSpec(
        "hide-number",
        "generic",
        texts("Hide my number", "Антиопределитель номера", "پنهان کردن شماره"),
        texts(
            "The people you call do not see your number.",
            "Те, кому вы звоните, не видят ваш номер.",
            "کسانی که با آن‌ها تماس می‌گیرید شماره شما را نمی‌بینند.",
        ),
        fee_minor=500,
        fee_period="daily",
        sort_order=30,
    ),
    ServiceSpec(
        "who-called",
        "generic",
        texts("Who called", "Кто звонил", "چه کسی زنگ زد"),
        texts(
            "An SMS about every call you missed while the phone was off.",
            "SMS о каждом пропущенном звонке, пока телефон был выключен.",
            "پیامکی درباره هر تماسی که هنگام خاموش بودن گوشی از دست داده‌اید.",
        ),
        fee_minor=3_000,
        fee_period="monthly",
        requires=("caller-id",),
        sort_order=40,
    ),
    ServiceSpec(
        "voicemail",
        "generic",
        texts("Voicemail", "Голосовая почта", "پست صوتی"),
        texts(
            "Callers leave you a message when you cannot answer.",
            "Звонящие оставляют сообщение, когда вы не можете ответить.",
            "وقتی نمی‌توانید پاسخ دهید، تماس‌گیرندگان پیام می‌گذارند.",
        ),
        fee_minor=4_900,
        fee_period="monthly",
        sort_order=50,
    ),
    ServiceSpec(
        "beep",
        "generic",
        texts("Ringback tune", "Гудок-мелодия", "آهنگ پیشواز"),
        texts(
            "Callers hear a tune of your choice instead of the ring tone.",
            "Звонящие слышат выбранную вами мелодию вместо гудка.",
            "تماس‌گیرندگان به جای بوق، آهنگ انتخابی شما را می‌شنوند.",
        ),
        fee_minor=300,
        fee_period="daily",
        sort_order=60,
    ),
    ServiceSpec(
        "data-3gb",
        "data_pack",
        texts("Extra 3 GB", "Дополнительно 3 ГБ", "۳ گیگابایت اضافه"),
        texts(
            "3 GB on top of your tariff for 30 days.",
            "3 ГБ сверх тарифа на 30 дней.",
            "۳ گیگابایت علاوه بر تعرفه، برای ۳۰ روز.",
        ),
        connect_fee_minor=15_000,
        validity_days=30,
        data_bytes=3 * GB,
        allowed_tariffs=BUNDLE_TARIFFS,
        sort_order=70,
    ),
    ServiceSpec(
        "data-10gb",
        "data_pack",
        texts("Extra 10 GB", "Дополнительно 10 ГБ", "۱۰ گیگابایت اضافه"),
        texts(
            "10 GB on top of your tariff for 30 days.",
            "10 ГБ сверх тарифа на 30 дней.",
            "۱۰ گیگابایت علاوه بر تعرفه، برای ۳۰ روز.",
        ),
        connect_fee_minor=35_000,
        validity_days=30,
        data_bytes=10 * GB,
        allowed_tariffs=BUNDLE_TARIFFS,
        sort_order=80,
    ),
    ServiceSpec(
        "minutes-300",
        "voice_pack",
        texts("300 minutes", "300 минут", "۳۰۰ دقیقه"),
        texts(
            "300 more minutes to any number at home for 30 days.",
            "Ещё 300 минут на любые номера по России на 30 дней.",
            "۳۰۰ دقیقه بیشتر برای تماس داخلی با هر شماره، برای ۳۰ روز.",
        ),
        connect_fee_minor=20_000,
        validity_days=30,
        voice_s=300 * 60,
        sort_order=90,
    ),
    ServiceSpec(
        "sms-200",
        "sms_pack",
        texts("200 SMS", "200 SMS", "۲۰۰ پیامک"),
        texts(
            "200 messages to numbers at home for 30 days.",
            "200 сообщений на номера по России на 30 дней.",
            "۲۰۰ پیامک داخلی برای ۳۰ روز.",
        ),
        connect_fee_minor=10_000,
        validity_days=30,
        sms=200,
        sort_order=100,
    ),
    ServiceSpec(
        "roaming-europe",
        "roaming_pack",
        texts("Travel: Europe", "Путешествие: Европа", "سفر: اروپا"),
        texts(
            "2 GB and 60 minutes in Europe and Turkey for 7 days.",
            "2 ГБ и 60 минут в Европе и Турции на 7 дней.",
            "۲ گیگابایت و ۶۰ دقیقه در اروپا و ترکیه برای ۷ روز.",
        ),
        connect_fee_minor=150_000,
        validity_days=7,
        voice_s=60 * 60,
        data_bytes=2 * GB,
        zone="roam-europe",
        excludes=("roaming-world",),
        sort_order=110,
    ),
    ServiceSpec(
        "roaming-world",
        "roaming_pack",
        texts("Travel: world", "Путешествие: весь мир", "سفر: سایر کشورها"),
        texts(
            "1 GB and 30 minutes outside Europe and the CIS for 7 days.",
            "1 ГБ и 30 минут за пределами Европы и СНГ на 7 дней.",
            "۱ گیگابایت و ۳۰ دقیقه خارج از اروپا و کشورهای مشترک‌المنافع برای ۷ روز.",
        ),
        connect_fee_minor=250_000,
        validity_days=7,
        voice_s=30 * 60,
        data_bytes=1 * GB,
        zone="roam-world",
        sort_order=120,
    ),
    ServiceSpec(
        "call-forwarding",
        "generic",
        texts("Call forwarding", "Переадресация", "انتقال تماس"),
        texts(
            "Send your calls to another number when you are busy or away.",
            "Переводите звонки на другой номер, когда заняты или недоступны.",
            "وقتی مشغول یا در دسترس نیستید، تماس‌ها را به شماره دیگری بفرستید.",
        ),
        sort_order=130,
    ),
)

SERVICE_BY_CODE = {service.code: service for service in SERVICES}
PACK_SERVICES = ("data-3gb", "data-10gb", "minutes-300", "sms-200")
ROAMING_PACKS = ("roaming-europe", "roaming-world")
# Services kept connected (not one-time packs), with how common they are among subscribers (percent).
STANDING_SERVICES: tuple[tuple[str, int], ...] = (
    ("caller-id", 60),
    ("black-list", 9),
    ("hide-number", 4),
    ("voicemail", 12),
    ("beep", 5),
    ("call-forwarding", 8),
)

OPERATOR_HOLDER = "Selfcare Mobile"
