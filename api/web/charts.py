"""Inline SVG charts for the enrollee page: no JavaScript needed, no CDN, printable.

``line_chart`` draws bucket averages with their min-max range, the person's usual range
(baseline band), threshold lines and, for weight, the heart-failure gain line; ``heatmap``
draws activity by hour × day. Every time on them follows ``dolbom.timefmt`` (the enrollee's
zone, labelled): the date ticks are local midnights, the hover text of each bucket (an SVG
``<title>``, which a browser shows without script and under the CSP; ``enrollee.js`` also
shows it under the chart on a tap) says when and what. The value axis takes "nice" ticks from
the data range, with as many decimals as the step needs (a weight chart reads 64.2 / 64.4 /
64.6, never 64 / 64 / 64). Text comes from the page's catalogue (``api.web.i18n``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Final

from markupsafe import Markup

from api.readings.models import ReadingBucket
from dolbom.timefmt import LocalClock, zone_label

W, H = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 42, 10, 10, 34
MAX_DAY_TICKS: Final = 7
# The heart-failure gain line compares a weight with the lowest of the 3 days before it, as
# analytics' rapid_weight_gain does on arrival (analytics/detectors/trends.weight_gain,
# window of half a day): ESC 2021 heart failure, "> 2 kg in 3 days: contact the team".
GAIN_DAYS: Final = 3.0
GAIN_WINDOW: Final = timedelta(hours=12)
# The decimals a value of a metric is read with (a weight 64.3 kg, a temperature 36.8 °C);
# others whole (a heart rate, a blood pressure).
PRECISION: Final[dict[str, int]] = {"weight": 1, "body_temp": 1}


@dataclass(frozen=True, slots=True)
class Scale:
    """A value axis: its ends, its ticks and the decimals they need."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    decimals: int


def nice_scale(lo: float, hi: float, target: int = 4) -> Scale:
    """Ticks at 1, 2, 2.5 or 5 × 10^k covering ``[lo, hi]`` with about ``target`` steps; the
    axis ends on a tick. A flat series (lo == hi) gets a small span around its value."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo < 1e-9:
        half = max(abs(hi) * 0.01, 0.05)
        lo, hi = lo - half, hi + half
    raw = (hi - lo) / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    multiple, step = 10.0, 10.0 * magnitude
    for candidate in (1.0, 2.0, 2.5, 5.0, 10.0):
        if (hi - lo) / (candidate * magnitude) <= target + 1:
            multiple, step = candidate, candidate * magnitude
            break
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = tuple(round(k * step, 10) for k in range(first, last + 1))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if multiple == 2.5 and step < 10 else 0)
    return Scale(ticks[0], ticks[-1], ticks, decimals)


def value_text(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def day_ticks(start: datetime, end: datetime, clock: LocalClock) -> list[tuple[datetime, date]]:
    """Local midnights within ``[start, end]`` in the clock's zone, every 1, 2, 5, 7, 14 or
    15 days so that at most ``MAX_DAY_TICKS`` remain."""
    first = clock.local(start).date() + timedelta(days=1)
    last = clock.local(end).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    step = next((s for s in (1, 2, 5, 7, 14, 15, 30) if len(days) / s <= MAX_DAY_TICKS), 30)
    chosen = days[::-1][::step][::-1]  # counted back from the newest day, which is always shown
    return [(datetime.combine(day, time(), tzinfo=clock.zone), day) for day in chosen]


def gain_line(buckets: Sequence[ReadingBucket], limit: float) -> list[tuple[datetime, float]]:
    """For each bucket, the lowest weight of the 3 days before it (ending half a day before)
    plus ``limit``: a weight above the line is a gain past the ESC line."""
    points: list[tuple[datetime, float]] = []
    for bucket in buckets:
        since = bucket.bucket_start - timedelta(days=GAIN_DAYS) - GAIN_WINDOW
        until = bucket.bucket_start - GAIN_WINDOW
        before = [b.min for b in buckets if since < b.bucket_start <= until]
        if before:
            points.append((bucket.bucket_start, min(before) + limit))
    return points


@dataclass(frozen=True, slots=True)
class LineChart:
    svg: Markup
    decimals: int  # of a value: the axis's or the metric's precision, whichever is finer


def bucket_text(bucket: ReadingBucket, width: timedelta, clock: LocalClock) -> str:
    """When a bucket was: its local day (a day wide), else its hours with the zone's label."""
    if width >= timedelta(days=1):
        return clock.day(clock.local(bucket.bucket_start).date())
    return clock.when(bucket.bucket_start, until=bucket.bucket_start + width)


def line_chart(
    buckets: Sequence[ReadingBucket],
    start: datetime,
    end: datetime,
    width: timedelta,
    thresholds: Sequence[tuple[str, float]],
    band: tuple[float, float] | None,
    labels: Mapping[str, str],
    clock: LocalClock,
    unit: str,
    gain_limit: float | None = None,
    precision: int = 0,
) -> LineChart:
    """A metric's buckets over ``[start, end)``; ``thresholds`` as (label, value), drawn when
    near the data; ``gain_limit`` (weight): the 3-day gain line; ``precision``: the decimals
    a value of the metric is read with (hover texts take at least these, or the axis's)."""
    if not buckets:
        return LineChart(Markup('<p class="muted">%s</p>') % labels["no_data"], 0)
    values = [b.min for b in buckets] + [b.max for b in buckets]
    if band:
        values += list(band)
    gain = gain_line(buckets, gain_limit) if gain_limit is not None else []
    values += [v for _, v in gain]
    lo, hi = min(values), max(values)
    reach = (hi - lo) * 0.6 or max(abs(hi) * 0.05, 1.0)
    near = [t for t in thresholds if lo - reach <= t[1] <= hi + reach]
    values += [t[1] for t in near]
    scale = nice_scale(min(values), max(values))
    digits = scale.decimals
    exact = max(digits, precision)
    span_s = (end - start).total_seconds() or 1.0
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(ts: datetime) -> float:
        return LEFT + plot_w * min(max((ts - start).total_seconds() / span_s, 0.0), 1.0)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - scale.lo) / (scale.hi - scale.lo))

    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img">']
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>')
    for tick in scale.ticks:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 4}" y="{y(tick) + 3.5:.1f}" '
                     f'text-anchor="end">'
                     f'{value_text(tick, digits)}</text>')
    for moment, day in day_ticks(start, end, clock):
        parts.append(f'<line class="grid day" x1="{x(moment):.1f}" x2="{x(moment):.1f}" y1="{TOP}" '
                     f'y2="{TOP + plot_h}"/><text class="axis" x="{x(moment):.1f}" y="{TOP + plot_h + 13}" '
                     f'text-anchor="middle">{escape(clock.tick(day))}</text>')
    parts.append(f'<text class="axis zone" x="{W - RIGHT}" y="{H - 4}" text-anchor="end">'
                 f'{escape(labels["times_in"])} {escape(clock.label)}</text>')
    if band:
        parts.append(
            f'<rect class="band" x="{LEFT}" y="{y(band[1]):.1f}" width="{plot_w}" '
            f'height="{max(y(band[0]) - y(band[1]), 1):.1f}"><title>{escape(labels["baseline"])} '
            f'{value_text(band[0], exact)}–{value_text(band[1], exact)} {escape(unit)}</title></rect>'
        )
    for name, value in near:
        parts.append(
            f'<line class="threshold" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}">'
            f'<title>{escape(name)}: {value:g} {escape(unit)}</title></line>'
            f'<text class="tlabel" x="{W - RIGHT - 2}" y="{y(value) - 2:.1f}" text-anchor="end">'
            f'{value:g}</text>'
        )
    if gain:
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in gain)
        parts.append(f'<polyline class="gain" points="{points}"><title>{escape(labels["gain_line"])}'
                     f'</title></polyline>')
    upper = " ".join(f"{x(b.bucket_start):.1f},{y(b.max):.1f}" for b in buckets)
    lower = " ".join(f"{x(b.bucket_start):.1f},{y(b.min):.1f}" for b in reversed(buckets))
    parts.append(f'<polygon class="range" points="{upper} {lower}"/>')
    line = " ".join(f"{x(b.bucket_start):.1f},{y(b.avg):.1f}" for b in buckets)
    parts.append(f'<polyline class="avg" points="{line}"/>')
    radius = 1.8 if len(buckets) <= 120 else 1.1
    above = {t for t, v in gain}
    gain_at = dict(gain)
    strip = max(plot_w / max(len(buckets), 1), 2.0)
    for b in buckets:
        over = b.bucket_start in above and b.max > gain_at[b.bucket_start]
        text = (f"{bucket_text(b, width, clock)} · {labels['average']} {value_text(b.avg, exact)} "
                f"{unit}")
        if b.count > 1:
            text += (f" ({labels['lowest']} {value_text(b.min, exact)}, {labels['highest']} "
                     f"{value_text(b.max, exact)}, {b.count}{labels['times_n']})")
        if over:
            text += f" · {labels['gain_over']}"
        cx = x(b.bucket_start)
        parts.append(f'<circle class="pt{" over" if over else ""}" cx="{cx:.1f}" cy="{y(b.avg):.1f}" '
                     f'r="{radius}"/>')
        parts.append(f'<rect class="hit" x="{cx - strip / 2:.1f}" y="{TOP}" width="{strip:.1f}" '
                     f'height="{plot_h}" data-label="{escape(text)}"><title>{escape(text)}</title></rect>')
    parts.append("</svg>")
    return LineChart(Markup("".join(parts)), exact)


def heatmap(days: Sequence[date], values: Mapping[tuple[str, int], float], title: str,
            clock: LocalClock, labels: Mapping[str, str]) -> Markup:
    """Rows are the enrollee's local days (oldest first), columns local hours 0-23; darker =
    more. Each cell's title says the day, the hours, the zone and the count."""
    if not days:
        return Markup("")
    cell, label_w, top = 14, 44, 14
    peak = max(values.values(), default=0.0) or 1.0
    width, height = label_w + 24 * cell, top + len(days) * cell
    parts = [f'<svg class="heat" viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>']
    for hour in range(0, 24, 3):
        parts.append(f'<text class="axis" x="{label_w + hour * cell}" y="10">{hour:02d}</text>')
    for row, day in enumerate(days):
        ty = top + row * cell
        day_label = clock.day(day)
        zone = zone_label(clock.zone, datetime.combine(day, time(12), tzinfo=clock.zone))
        parts.append(f'<text class="axis" x="0" y="{ty + 11}">{escape(clock.tick(day))}</text>')
        for hour in range(24):
            value = values.get((day.isoformat(), hour), 0.0)
            opacity = 0.06 + 0.94 * (value / peak) if value else 0.03
            parts.append(
                f'<rect x="{label_w + hour * cell}" y="{ty}" width="{cell - 1}" height="{cell - 1}" '
                f'class="cell" fill-opacity="{opacity:.2f}">'
                f'<title>{escape(day_label)} {hour:02d}:00–{(hour + 1) % 24:02d}:00 {escape(zone)} · '
                f'{escape(title)} {value:,.0f}</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
