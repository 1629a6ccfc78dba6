"""Inline SVG charts for the enrollee page: no JavaScript, no CDN, printable.

``line_chart`` draws bucket averages with their min-max range, the person's usual range
(baseline band) and threshold lines; ``heatmap`` draws activity by hour × day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape

from markupsafe import Markup

from api.readings.models import ReadingBucket

W, H = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"


def line_chart(
    buckets: Sequence[ReadingBucket],
    start: datetime,
    end: datetime,
    thresholds: Sequence[tuple[str, float]],
    band: tuple[float, float] | None,
    labels: Mapping[str, str],
) -> Markup:
    if not buckets:
        return Markup('<p class="muted">%s</p>') % labels["no_data"]
    values = [b.min for b in buckets] + [b.max for b in buckets]
    if band:
        values += list(band)
    lo, hi = min(values), max(values)
    near = [t for t in thresholds if lo - (hi - lo + 1) * 0.6 <= t[1] <= hi + (hi - lo + 1) * 0.6]
    values += [t[1] for t in near]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    span_s = (end - start).total_seconds() or 1.0
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(ts: datetime) -> float:
        return LEFT + plot_w * min(max((ts - start).total_seconds() / span_s, 0.0), 1.0)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" preserveAspectRatio="none">']
    parts.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>')
    if band:
        parts.append(
            f'<rect class="band" x="{LEFT}" y="{y(band[1]):.1f}" width="{plot_w}" '
            f'height="{max(y(band[0]) - y(band[1]), 1):.1f}"><title>{escape(labels["baseline"])} '
            f'{_fmt(band[0])}–{_fmt(band[1])}</title></rect>'
        )
    for name, value in near:
        parts.append(
            f'<line class="threshold" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}">'
            f'<title>{escape(name)} {_fmt(value)}</title></line>'
            f'<text class="tlabel" x="{W - RIGHT - 2}" y="{y(value) - 2:.1f}" text-anchor="end">'
            f'{_fmt(value)}</text>'
        )
    upper = " ".join(f"{x(b.bucket_start):.1f},{y(b.max):.1f}" for b in buckets)
    lower = " ".join(f"{x(b.bucket_start):.1f},{y(b.min):.1f}" for b in reversed(buckets))
    parts.append(f'<polygon class="range" points="{upper} {lower}"/>')
    line = " ".join(f"{x(b.bucket_start):.1f},{y(b.avg):.1f}" for b in buckets)
    parts.append(f'<polyline class="avg" points="{line}"/>')
    if len(buckets) <= 120:
        parts.extend(f'<circle class="pt" cx="{x(b.bucket_start):.1f}" cy="{y(b.avg):.1f}" r="1.6"/>'
                     for b in buckets)
    for v in (lo + pad, (lo + hi) / 2, hi - pad):
        parts.append(
            f'<text class="axis" x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        )
    parts.append(f'<text class="axis" x="{LEFT}" y="{H - 6}">{start:%m-%d}</text>')
    parts.append(f'<text class="axis" x="{W - RIGHT}" y="{H - 6}" text-anchor="end">{end:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(days: Sequence[date], values: Mapping[tuple[str, int], float], title: str) -> Markup:
    """Rows are days (oldest first), columns hours 0-23; darker = more."""
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
        parts.append(f'<text class="axis" x="0" y="{ty + 11}">{day:%m-%d}</text>')
        for hour in range(24):
            value = values.get((day.isoformat(), hour), 0.0)
            opacity = 0.06 + 0.94 * (value / peak) if value else 0.03
            parts.append(
                f'<rect x="{label_w + hour * cell}" y="{ty}" width="{cell - 1}" height="{cell - 1}" '
                f'class="cell" fill-opacity="{opacity:.2f}">'
                f'<title>{day} {hour:02d}h: {value:.0f}</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
