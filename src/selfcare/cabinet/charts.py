"""Server-side SVG charts of spending: the geometry here, the markup in the templates (no JS library).

Coordinates are in the SVG's own viewBox units; the SVG scales to its container with CSS. Colours
come from classes in app.css (the CSP allows no inline styles; SVG presentation attributes such as
x, y, width and height are attributes, not styles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import date_format

from selfcare.cabinet import formatting
from selfcare.cabinet.queries import CategorySpending, DaySpending
from selfcare.kit.money import minor_digits

WIDTH = 640
HEIGHT = 240
LEFT = 64  # room for the amounts on the y axis
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the dates


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what a tooltip and a screen reader say: "5 Mar: 12.50 ₽"
    css_class: str = ""


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]  # horizontal grid lines with their amounts
    x_ticks: list[Tick]  # dates under some bars
    plot_left: int
    plot_right: int
    baseline: float


def nice_ceiling(amount_minor: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten (major units) at or above the amount: a readable
    top for the axis."""
    unit = int(10 ** minor_digits(settings.SELFCARE_CURRENCY))
    major = max(1, -(-amount_minor // unit))
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= major:
                return factor * step * unit
        step *= 10


def daily_chart(days: Sequence[DaySpending]) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((d.amount_minor for d in days), default=0))
    slot = plot_width / max(len(days), 1)
    bars = []
    x_ticks = []
    for index, day in enumerate(days):
        height = plot_height * day.amount_minor / top if top else 0
        x = LEFT + index * slot
        label = f"{date_format(day.day, 'SHORT_DATE_FORMAT')}: {formatting.money(day.amount_minor)}"
        bars.append(
            Bar(
                x=round(x + slot * 0.15, 2),
                y=round(TOP + plot_height - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=label,
                css_class="chart-bar-today" if index == len(days) - 1 else "",
            )
        )
        # A date under every seventh bar, counted back from today.
        if (len(days) - 1 - index) % 7 == 0:
            x_ticks.append(Tick(x=round(x + slot / 2, 2), y=HEIGHT - 8, label=date_format(day.day, "j.m")))
    # Grid lines at zero, half and the top of the axis (top is a round amount, so is its half).
    y_ticks = [
        Tick(
            x=LEFT - 6,
            y=round(TOP + plot_height * (2 - halves) / 2, 2),
            label=formatting.money(top * halves // 2),
        )
        for halves in (0, 1, 2)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        baseline=TOP + plot_height,
    )


CATEGORY_ROW = 36
CATEGORY_LABEL = 150  # room for the category name on the left
CATEGORY_AMOUNT = 110  # room for the amount on the right


def category_chart(categories: Sequence[CategorySpending]) -> Chart:
    """Horizontal bars, one per category, longest for the largest amount."""
    plot_width = WIDTH - CATEGORY_LABEL - CATEGORY_AMOUNT
    top = max((c.amount_minor for c in categories), default=0)
    bars = []
    labels = []
    for index, category in enumerate(categories):
        y = TOP + index * CATEGORY_ROW
        width = plot_width * category.amount_minor / top if top else 0
        amount = formatting.money(category.amount_minor)
        bars.append(
            Bar(
                x=CATEGORY_LABEL,
                y=y,
                width=round(width, 2),
                height=CATEGORY_ROW * 0.6,
                label=f"{category.label}: {amount}",
                css_class=f"chart-category-{category.code}",
            )
        )
        labels.append(Tick(x=CATEGORY_LABEL + round(width, 2) + 6, y=y + CATEGORY_ROW * 0.45, label=amount))
    height = TOP * 2 + CATEGORY_ROW * len(categories)
    return Chart(
        width=WIDTH,
        height=height,
        bars=bars,
        y_ticks=[
            Tick(x=CATEGORY_LABEL - 8, y=TOP + i * CATEGORY_ROW + CATEGORY_ROW * 0.45, label=c.label)
            for i, c in enumerate(categories)
        ],
        x_ticks=labels,
        plot_left=CATEGORY_LABEL,
        plot_right=WIDTH - CATEGORY_AMOUNT,
        baseline=0,
    )
