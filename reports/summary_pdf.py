"""The personal summary as one A4 page for a home visit (``reports.summary`` makes the dict).

What a care worker reads on it follows the web app's rules (issue 14):

- every time is the enrollee's, labelled (``dolbom.timefmt.printed``: "9월 2일 21:00 EDT"),
  and "기준 시각" says when the report was made, in the same zone;
- the charts' days are dates on a shared axis (the period's first to last day; "9/8", never
  "1.5"), and hold the finished days that the text counts (``summary.vital_trend``);
- the charts are the ones the person needs: those with data, and those their conditions call
  for (``dolbom.rules.CONDITION_MEASUREMENTS``: blood pressure, glucose, weight), which say
  "이번 기간 측정 없음" when missing; at most six;
- the weight chart of heart failure draws the ESC 3-day gain line like the web page;
- an empty chart is a sentence, not an invented axis; values keep the decimals they need.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dolbom.rules import CONDITION_MEASUREMENTS, GLUCOSE_RANGE_MG_DL, enrollee_zone
from dolbom.text import drawable_tree
from dolbom.timefmt import printed, tick_text, zone_label
from reports.labels import SEVERITY_KO, kind_ko, outcome_ko
from reports.pdf import as_of_ko, lines, no_data, num, page, pct, pdf_bytes, period_ko

MAX_CHARTS: Final = 6
MAX_ALERT_LINES: Final = 6
NO_MEASUREMENT: Final = "이번 기간 측정 없음"
BLUE, ORANGE, GREY, PURPLE, RED = "#3a6ea5", "#d9822b", "#888888", "#7a5ea5", "#c62828"
# (key, title, the vitals it draws); in the order a nurse reads them.
VITAL_CHARTS: Final = (
    ("bp", "혈압 (mmHg)", ("systolic_bp", "diastolic_bp")),
    ("glucose", "혈당 (mg/dL)", ("glucose",)),
    ("weight", "체중 (kg)", ("weight",)),
    ("heart_rate", "심박수 (회/분)", ("heart_rate",)),
    ("spo2", "산소포화도 (%)", ("spo2",)),
    ("body_temp", "체온 (°C)", ("body_temp",)),
    ("respiratory_rate", "호흡수 (회/분)", ("respiratory_rate",)),
)
_CHART_OF_METRIC: Final = {metric: key for key, _, metrics in VITAL_CHARTS for metric in metrics}


def chart_plan(summary: dict[str, Any]) -> list[str]:
    """The charts of this person's page: vitals with data or called for by a condition, then
    steps and sleep when measured; at most ``MAX_CHARTS``."""
    vitals, activity = summary["vitals"], summary["activity"]
    needed = {_CHART_OF_METRIC[metric] for condition in summary["enrollee"]["conditions"]
              if (metric := CONDITION_MEASUREMENTS.get(condition, (None,))[0]) in _CHART_OF_METRIC}
    plan = [key for key, _, metrics in VITAL_CHARTS
            if key in needed or any(vitals.get(m) and vitals[m]["daily"] for m in metrics)]
    if activity["steps_daily"]:
        plan.append("steps")
    if activity["sleep_daily_hours"]:
        plan.append("sleep")
    return plan[:MAX_CHARTS]


def _days(points: Sequence[dict[str, Any]]) -> list[float]:
    """The points' days as matplotlib's date numbers (their midnights)."""
    return [float(mdates.date2num(date.fromisoformat(p["day"]))) for p in points]


def _date_axis(ax: Axes, period: dict[str, Any]) -> None:
    """The period's days on x, dates as "9/8" (a month: the 1st, 8th, 15th, 22nd, 29th)."""
    start, end = (datetime.combine(date.fromisoformat(period[k]), time()) for k in ("start", "end"))
    half = timedelta(hours=12)  # a day's bar or point is centred on its date
    ax.set_xlim(float(mdates.date2num(start - half)), float(mdates.date2num(end - half)))
    if period["kind"] == "month":
        ax.xaxis.set_major_locator(mdates.DayLocator(bymonthday=(1, 8, 15, 22, 29)))
    else:
        ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: tick_text(mdates.num2date(value).date())))


def _value_axis(ax: Axes) -> None:
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")  # 64.2, never +6.4e1


def gain_points(trend: dict[str, Any]) -> list[tuple[date, float]]:
    """Each day's line: the lowest daily mean of the 3 days before it plus the gain limit
    (ESC 2021 heart failure; analytics' nightly rule over calendar days)."""
    line = trend.get("gain_line")
    if not line:
        return []
    means = {date.fromisoformat(d["day"]): d["mean"] for d in trend["daily"]}
    points = []
    for day in sorted(means):
        days_before = (day - timedelta(days=k) for k in range(1, line["days"] + 1))
        before = [means[d] for d in days_before if d in means]
        if before:
            points.append((day, min(before) + line["kg"]))
    return points


def _vital_chart(ax: Axes, title: str, trends: Sequence[dict[str, Any] | None], period: dict[str, Any],
                 names: Sequence[str]) -> None:
    present = [(t, n) for t, n in zip(trends, names, strict=True) if t and t["daily"]]
    if not present:
        no_data(ax, title, NO_MEASUREMENT)
        return
    ax.set_title(title)
    for (trend, name), color in zip(present, (BLUE, ORANGE), strict=False):
        base = trend["baseline"]
        if base["median"] is not None:
            ax.axhspan(base["p25"], base["p75"], color="#dddddd", alpha=0.6, linewidth=0)
            ax.axhline(base["median"], color=GREY, linestyle="--", linewidth=1)
        ax.plot(_days(trend["daily"]), [d["mean"] for d in trend["daily"]], marker="o", markersize=3,
                color=color, label=name)
        gain = gain_points(trend)
        if gain:
            ax.plot([float(mdates.date2num(d)) for d, _ in gain], [v for _, v in gain], color=PURPLE,
                    linestyle=(0, (4, 2)), linewidth=1.2,
                    label=f"3일 전 최저 + {trend['gain_line']['kg']:g} kg (ESC 2021)")
    if len(present) > 1 or any(gain_points(t) for t, _ in present):
        ax.legend(fontsize=7, frameon=False, loc="best")
    _date_axis(ax, period)
    _value_axis(ax)


def _bar_chart(ax: Axes, title: str, points: Sequence[dict[str, Any]], period: dict[str, Any],
               color: str, reference: float | None = None) -> None:
    if not points:
        no_data(ax, title, NO_MEASUREMENT)
        return
    ax.set_title(title)
    ax.bar(_days(points), [p["value"] for p in points], color=color, width=0.8)
    if reference is not None:
        ax.axhline(reference, color=GREY, linestyle="--", linewidth=1)
    _date_axis(ax, period)
    _value_axis(ax)


def _draw(ax: Axes, key: str, summary: dict[str, Any]) -> None:
    period, vitals, activity = summary["period"], summary["vitals"], summary["activity"]
    if key == "steps":
        _bar_chart(ax, "하루 걸음 (점선: 지난 기간 평균)", activity["steps_daily"], period, BLUE,
                   activity["steps_prev_per_day"])
        return
    if key == "sleep":
        _bar_chart(ax, "수면 (시간)", activity["sleep_daily_hours"], period, PURPLE)
        return
    _, title, metrics = next(chart for chart in VITAL_CHARTS if chart[0] == key)
    names = {"systolic_bp": "수축기", "diastolic_bp": "이완기"}
    _vital_chart(ax, title, [vitals.get(m) for m in metrics], period, [names.get(m, title) for m in metrics])
    if key == "glucose" and vitals.get("glucose") and vitals["glucose"]["daily"]:
        ax.axhspan(*GLUCOSE_RANGE_MG_DL, color="#c8e6c9", alpha=0.4, linewidth=0)


def _legend(fig: Figure, top: float) -> None:
    """One key for every chart, under the text."""
    handles = [
        Line2D([], [], color=BLUE, marker="o", markersize=3, label="일 평균 (완료된 날)"),
        Line2D([], [], color=GREY, linestyle="--", label="평소 (지난 90일 일 평균의 중앙값)"),
        Patch(color="#dddddd", label="평소 범위 (25–75%)"),
        Patch(color="#c8e6c9", label=f"혈당 목표 {GLUCOSE_RANGE_MG_DL[0]:.0f}–{GLUCOSE_RANGE_MG_DL[1]:.0f}"),
    ]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.06, top), ncol=4, frameon=False,
               fontsize=7.5, handlelength=1.8, columnspacing=1.2)


def _alert_lines(fig: Figure, alerts: dict[str, Any], zone_name: str | None, year: int, top: float) -> None:
    zone = enrollee_zone(zone_name)
    fig.text(0.07, top, "알림", fontsize=10, weight="bold")
    y = top
    items = alerts["items"]
    if not items:
        fig.text(0.07, y - 0.018, "이번 기간 알림 없음", fontsize=8.5)
    for item in items[:MAX_ALERT_LINES]:
        y -= 0.018
        opened = printed(datetime.fromisoformat(item["opened_at"]), zone, "ko", year_of=year)
        severity = SEVERITY_KO.get(item["severity"], item["severity"])
        respond = item["minutes_to_respond"]
        fig.text(0.07, y, f"{opened} · {kind_ko(item['kind'])} ({severity})"
                          f" · 결과 {outcome_ko(item['outcome'])}"
                          f" · 확인까지 {'—' if respond is None else num(respond) + '분'}", fontsize=8.5)
    if len(items) > MAX_ALERT_LINES:
        fig.text(0.07, y - 0.018, f"외 {len(items) - MAX_ALERT_LINES}건", fontsize=8.5, color="#555555")


def summary_page(summary: dict[str, Any]) -> Figure:
    """The page of a summary whose text is drawable (``dolbom.text.drawable_tree``)."""
    person, figures, adherence = summary["enrollee"], summary["figures"], summary["adherence"]
    activity, alerts, period = summary["activity"], summary["alerts"], summary["period"]
    zone = enrollee_zone(person["timezone"])
    as_of = datetime.fromisoformat(summary["as_of"])
    worker = person["care_worker"] or "—"
    fig = page(f"{person['name']} 님 돌봄 요약",
               f"{period_ko(period)} · {person['age']}세 · 담당 {worker}"
               f" · {as_of_ko(summary, person['timezone'])}")
    observed = adherence["days_observed"] or 0
    texts = [
        f"완료된 {observed}일 기준 (시간대 {zone.key}, {zone_label(zone, as_of)})",
        f"측정: 혈압 {observed}일 중 {adherence['bp_days'] or 0}일"
        f" · 혈당 {adherence['glucose_days'] or 0}일"
        f" · 밴드 10시간 이상 착용 {adherence['wear_days'] or 0}일"
        f" · 안부 응답 {pct(adherence['checkin_share'])}",
        f"가정혈압 평균 {num(figures['sbp_mean'])}/{num(figures['dbp_mean'])} mmHg · 혈당 목표범위"
        f" {pct(figures['glucose_tir'])} · 하루 걸음 {num(activity['steps_per_day'])}"
        f" (지난 기간 {num(activity['steps_prev_per_day'])})"
        f" · 수면 {num(activity['sleep_hours'], '.1f')}시간",
        f"알림 {alerts['total']}건 · 오경보 {alerts['false_alarms']}건"
        f" · 현재 미해결 {alerts['unresolved_now']}건",
    ]
    weight = summary["vitals"].get("weight")
    if weight and weight["mean"] is not None:
        usual = num(weight["baseline"]["median"], ".1f")
        texts.append(f"체중 평균 {weight['mean']:.1f} kg (평소 {usual} kg)")
    y = lines(fig, texts, 0.905, step=0.02)
    for reason in summary["review"][:4]:
        fig.text(0.07, y, f"· {reason['text_ko']}", fontsize=9, color="#a03030")
        y -= 0.018
    _legend(fig, y + 0.004)
    plan = chart_plan(summary) or ["none"]
    rows = (len(plan) + 1) // 2
    top = y - 0.045
    bottom = max(0.2, top - 0.19 * rows)
    grid = fig.add_gridspec(rows, 2, left=0.08, right=0.96, bottom=bottom, top=top,
                            hspace=0.55, wspace=0.25)
    for index, key in enumerate(plan):
        ax = fig.add_subplot(grid[index // 2, index % 2])
        if key == "none":
            no_data(ax, "측정", NO_MEASUREMENT)
        else:
            _draw(ax, key, summary)
    _alert_lines(fig, alerts, person["timezone"], date.fromisoformat(period["start"]).year, bottom - 0.05)
    return fig


def summary_pdf(summary: dict[str, Any]) -> bytes:
    """The personal summary on one A4 page: what was measured, the charts the person needs,
    the alerts and what came of them."""
    summary = drawable_tree(summary)
    # A generator: the page is made inside pdf_bytes' style (the font is read as text is made).
    pages = (summary_page(summary) for _ in range(1))
    return pdf_bytes(pages, f"{summary['enrollee']['name']} {summary['period']['label']}")
