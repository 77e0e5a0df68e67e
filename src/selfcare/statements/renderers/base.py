"""What the three renderers share: the words of the document in its language, and fast formatting of
the values that repeat on every line (local time, amounts).

The renderers run over up to a million events, so per-event work is dictionary look-ups: local time
is computed once per minute (the offset of a time zone never changes within a minute), an amount
once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from selfcare.kit.money import format_money, minor_digits
from selfcare.statements.document import KIND_NAMES, Statement, kind_name

# Called with the number of events written so far; the renderers call it every PROGRESS_EVERY events.
Progress = Callable[[int], None]
PROGRESS_EVERY = 10_000
MB = 1_048_576
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class LocalTimes:
    """Seconds since the epoch → local "YYYY-MM-DD HH:MM:SS" text or Excel serial day number.

    A statement's events are spread over most minutes of a month (a hundred thousand events touch
    most of its 44,640 minutes), so the per-minute prefix is built by arithmetic, an hour at a time:
    the zone's offset is asked at both ends of the hour, and when it is the same (always, but for the
    hour of a clock change) the hour's sixty prefixes are the UTC minute plus that offset. Around a
    change each minute asks the zone itself.
    """

    HOUR = 60  # minutes

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._prefix: dict[int, str] = {}
        self._offset: dict[int, int] = {}
        self._days: dict[int, str] = {}

    @property
    def minute_prefixes(self) -> dict[int, str]:
        """Minute since the epoch → local "YYYY-MM-DD HH:MM" (filled by text(); hot loops read it)."""
        return self._prefix

    def _offset_at(self, minute: int) -> int:
        moment = datetime.fromtimestamp(minute * 60, tz=UTC).astimezone(self.tz)
        return int((moment.utcoffset() or timedelta(0)).total_seconds())

    def _fill(self, minute: int, offset: int) -> None:
        day, second_of_day = divmod(minute * 60 + offset, 86400)
        day_text = self._days.get(day)
        if day_text is None:
            day_text = self._days[day] = date.fromordinal(EPOCH_ORDINAL + day).isoformat()
        hour, rest = divmod(second_of_day, 3600)
        self._prefix[minute] = f"{day_text} {hour:02d}:{rest // 60:02d}"
        self._offset[minute] = offset

    def _load(self, minute: int) -> None:
        start = minute - minute % self.HOUR
        offset = self._offset_at(start)
        if offset == self._offset_at(start + self.HOUR - 1):
            for each in range(start, start + self.HOUR):
                self._fill(each, offset)
        else:
            self._fill(minute, self._offset_at(minute))

    def text(self, started_s: int) -> str:
        minute, second = divmod(started_s, 60)
        prefix = self._prefix.get(minute)
        if prefix is None:
            self._load(minute)
            prefix = self._prefix[minute]
        return f"{prefix}:{second:02d}"

    def excel(self, started_s: int) -> float:
        """Days since 1899-12-30 in local time: what a spreadsheet date cell holds."""
        minute = started_s // 60
        offset = self._offset.get(minute)
        if offset is None:
            self._load(minute)
            offset = self._offset[minute]
        return (started_s + offset) / 86400 + 25569


class Amounts:
    """Minor units → "1234.50" (plain, for machines and tables), cached per value."""

    def __init__(self, currency: str) -> None:
        self.digits = minor_digits(currency)
        self.scale = 10**self.digits
        self._cache: dict[int, str] = {}

    @property
    def cached(self) -> dict[int, str]:
        """Amounts already formatted by plain() (hot loops read it before calling plain())."""
        return self._cache

    def plain(self, amount_minor: int) -> str:
        text = self._cache.get(amount_minor)
        if text is None:
            sign = "-" if amount_minor < 0 else ""
            whole, part = divmod(abs(amount_minor), self.scale)
            text = f"{sign}{whole}.{part:0{self.digits}d}" if self.digits else f"{sign}{whole}"
            if len(self._cache) < 100_000:
                self._cache[amount_minor] = text
        return text

    def major(self, amount_minor: int) -> float:
        return float(amount_minor / self.scale)


def duration_text(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def volume_text(volume_bytes: int) -> str:
    return f"{volume_bytes / MB:.2f} MB"


@dataclass(frozen=True)
class Words:
    """Every fixed text of a statement, translated once (call inside translation.override)."""

    title: str
    operator: str
    number: str
    holder: str
    account: str
    period: str
    generated: str
    currency: str
    totals: str
    money: str
    opening: str
    closing: str
    events: str
    no_events: str
    count: str
    date_time: str
    type: str
    counterparty: str
    duration_volume: str
    duration: str
    volume: str
    roaming_zone: str
    bucket: str
    bucket_units: str
    price: str
    amount: str
    category: str
    page_of: str
    money_hidden: str
    categories: dict[str, str]
    kinds: dict[str, str]


def words() -> Words:
    from selfcare.statements.models import Category

    return Words(
        title=_("Call detail"),
        operator=_("Operator"),
        number=_("Number"),
        holder=_("Subscriber"),
        account=_("Account"),
        period=_("Period"),
        generated=_("Prepared"),
        currency=_("Currency"),
        totals=_("Totals by category"),
        money=_("Money movements"),
        opening=_("Opening balance"),
        closing=_("Closing balance"),
        events=_("Events"),
        no_events=_("No events in this period."),
        count=_("Events"),
        date_time=_("Date and time"),
        type=_("Type"),
        counterparty=_("Other number"),
        duration_volume=_("Duration / volume"),
        duration=_("Duration"),
        volume=_("Volume (MB)"),
        roaming_zone=_("Roaming"),
        bucket=_("Package used"),
        bucket_units=_("Units from package"),
        price=_("Price"),
        amount=_("Amount"),
        category=_("Category"),
        page_of=_("Page %(page)s of %(pages)s"),
        money_hidden=_(
            "The account belongs to a company: its money movements are in the company's documents."
        ),
        categories={value: str(label) for value, label in Category.choices},
        kinds={kind: kind_name(kind) for kind in KIND_NAMES},
    )


def money_text(statement: Statement, amount_minor: int) -> str:
    """An amount as people read it in the document's language (Babel: separators and symbol)."""
    return format_money(amount_minor, statement.currency, statement.language)


def file_name(statement: Statement, extension: str) -> str:
    digits = statement.msisdn.lstrip("+")
    return f"call-detail-{digits}-{statement.period_start:%Y%m%d}-{statement.period_end:%Y%m%d}.{extension}"


# Writes the statement to the path and returns the number of events written.
Renderer = Callable[[Statement, Path, Words, Progress], int]
