"""PDF reports with matplotlib: A4 portrait, Korean text, the font embedded (TrueType, fonttype 42).

The Hangul font is NanumGothic (SIL Open Font License) shipped by the ``koreanize-matplotlib``
wheel, so no OS font package is needed; the package itself is never imported (it changes
matplotlib's global settings on import), only its font file is read. An installed Noto CJK
or Nanum OS font is the fallback.

Every text of a report passes ``dolbom.text.drawable`` first: names are stored as typed, and
matplotlib's layout fails on some characters (U+FEFF raised IndexError, a lone surrogate
UnicodeEncodeError); control and zero-width format characters are dropped, line breaks
become spaces.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Final

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dolbom.text import drawable_tree
from reports.errors import ReportError
from reports.labels import SEVERITY_KO, kind_ko, outcome_ko

A4_INCHES: Final = (8.27, 11.69)
logging.getLogger("fontTools").setLevel(logging.ERROR)  # its subsetter warns about every dropped table
REVIEW_ROWS_PER_PAGE: Final = 22
REVIEW_MAX_ROWS: Final = 88
_FONT_LOCK = threading.Lock()
_family: str | None = None


def korean_font_path() -> Path:
    """The NanumGothic file of koreanize-matplotlib, else an OS CJK font; ReportError if none."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "fonts" / "NanumGothic.ttf"
            if candidate.is_file():
                return candidate
    for path in font_manager.findSystemFonts():
        name = Path(path).name.lower()
        if "nanumgothic" in name or "notosanscjk" in name or "notosanskr" in name:
            return Path(path)
    raise ReportError("no Korean font for PDF reports: pip install koreanize-matplotlib")


def font_family() -> str:
    """Register the Korean font with matplotlib once; return its family name."""
    global _family
    with _FONT_LOCK:
        if _family is None:
            path = korean_font_path()
            for face in sorted(path.parent.glob(path.stem + "*" + path.suffix)):  # regular and bold
                font_manager.fontManager.addfont(str(face))
            _family = font_manager.FontProperties(fname=str(path)).get_name()
        return _family


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context({
        "pdf.fonttype": 42,  # embed TrueType (subset), so Hangul prints anywhere
        "font.family": [font_family(), "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }):
        yield


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def num(value: float | None, fmt: str = ",.0f") -> str:
    return "—" if value is None else format(value, fmt)


def _page(title: str, subtitle: str) -> Figure:
    fig = Figure(figsize=A4_INCHES)
    fig.text(0.06, 0.955, title, fontsize=16, weight="bold")
    fig.text(0.06, 0.935, subtitle, fontsize=9, color="#555555")
    return fig


def _period_ko(period: dict[str, Any]) -> str:
    kind = "월간" if period["kind"] == "month" else "주간"
    end = date.fromisoformat(period["end"]).toordinal() - 1
    return f"{kind} {period['label']} ({period['start']} ~ {date.fromordinal(end).isoformat()})"


def _lines(fig: Figure, lines: Sequence[str], top: float, step: float = 0.021, size: int = 10) -> float:
    y = top
    for line in lines:
        fig.text(0.07, y, line, fontsize=size)
        y -= step
    return y


def _bars(ax: Axes, labels: Sequence[str], values: Sequence[float], title: str, unit: str = "") -> None:
    positions = range(len(labels))
    bars = ax.bar(positions, values, color="#3a6ea5")
    ax.set_xticks(list(positions), labels)
    ax.set_title(title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(f"{value:,.0f}{unit}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)


def _overview(report: dict[str, Any]) -> Figure:
    region, people = report["region"], report["enrollees"]
    as_of = report["as_of"][:16].replace("T", " ")
    fig = _page(f"{region['name']} 돌봄 보고서", f"{_period_ko(report['period'])} · 기준 시각 {as_of}")
    adherence, bp, glucose = report["adherence"], report["bp_control"], report["glucose"]
    steps, alerts, devices = report["steps"], report["alerts"], report["devices"]
    checkins = report["checkins"]
    lines = [
        f"대상자: 활동 {people['active']}명 · 신규 {people['new']}명 · 기록 없음 {people['without_data']}명"
        f" · 비활성 {people['inactive']}명",
        f"측정 순응도: 혈압 {pct(adherence['bp']['share'])} · 혈당(당뇨) {pct(adherence['glucose']['share'])}"
        f" · 밴드 {adherence['wear']['min_hours']}시간 이상 착용 {pct(adherence['wear']['share'])}",
        f"혈압 조절 (고혈압, 가정혈압 평균 < {bp['target']['systolic']:.0f}/{bp['target']['diastolic']:.0f}):"
        f" {bp['controlled']}/{bp['with_readings']}명 ({pct(bp['share'])})",
        f"혈당 목표범위 {glucose['range_mg_dl'][0]:.0f}–{glucose['range_mg_dl'][1]:.0f} mg/dL:"
        f" {pct(glucose['share_in_range'])} ({glucose['in_range']}/{glucose['readings']}회),"
        f" {glucose['range_mg_dl'][0]:.0f} 미만 {glucose['below_range']}회",
        f"하루 걸음 중앙값: {num(steps['median_per_day'])}"
        f" (지난 기간 {num(steps['previous_median_per_day'])},"
        f" {num(steps['change_pct'], '+.0f')}%) · 30% 이상 감소 {steps['declined_30pct']}명",
        f"수면 중앙값: {num(report['sleep']['median_hours'], '.1f')}시간 · 안부 확인 응답률"
        f" {pct(checkins['share'])} ({checkins['answered']}/{checkins['total']})",
        f"알림: {alerts['total']}건 · 오경보 {alerts['false_alarms']}건 ({pct(alerts['false_alarm_share'])})"
        f" · 현재 미해결 {alerts['unresolved_now']}건",
        f"기기: 연결 끊김 {devices['offline']}대 · 수신 기록 없음 {devices['never_seen']}대"
        f" · 배터리 부족 {devices['low_battery']}대 (전체 {devices['total']}대)",
    ]
    _lines(fig, lines, 0.895)

    grid = fig.add_gridspec(2, 2, left=0.08, right=0.96, bottom=0.06, top=0.68, hspace=0.38, wspace=0.28)
    share_labels = ["혈압", "혈당", "밴드 착용", "안부 응답"]
    shares = [adherence["bp"]["share"], adherence["glucose"]["share"], adherence["wear"]["share"],
              report["checkins"]["share"]]
    _bars(fig.add_subplot(grid[0, 0]), share_labels, [100 * (s or 0) for s in shares], "측정·응답률 (%)", "%")

    severities = ["critical", "high", "medium", "low"]
    _bars(fig.add_subplot(grid[0, 1]), [SEVERITY_KO[s] for s in severities],
          [alerts["by_severity"][s] for s in severities], "심각도별 알림 (건)")

    ax = fig.add_subplot(grid[1, 0])
    times = report["response_times"]
    labels = [SEVERITY_KO[s] for s in (*severities, "all")]
    medians = [times[s]["acknowledge"]["median_min"] or 0 for s in (*severities, "all")]
    p90s = [times[s]["acknowledge"]["p90_min"] or 0 for s in (*severities, "all")]
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], medians, width=0.4, label="중앙값", color="#3a6ea5")
    ax.bar([x + 0.2 for x in xs], p90s, width=0.4, label="90백분위", color="#e0a030")
    ax.set_xticks(list(xs), labels)
    ax.set_title("알림 확인까지 걸린 시간 (분)")
    ax.legend(fontsize=8, frameon=False)

    ax = fig.add_subplot(grid[1, 1])
    rows = report["enrollees_detail"]
    now = [r["steps_per_day"] for r in rows if r["steps_per_day"] is not None]
    before = [r["steps_prev_per_day"] for r in rows if r["steps_prev_per_day"] is not None]
    if now or before:
        ax.hist([before, now], bins=10, label=["지난 기간", "이번 기간"], color=["#bbbbbb", "#3a6ea5"])
        ax.legend(fontsize=8, frameon=False)
    ax.set_title("대상자별 하루 평균 걸음 분포")
    return fig


def _review_pages(report: dict[str, Any]) -> Iterator[Figure]:
    review = report["review"][:REVIEW_MAX_ROWS]
    title = f"{report['region']['name']} · 우선 확인 대상 ({len(report['review'])}명)"
    pages = [review[k:k + REVIEW_ROWS_PER_PAGE] for k in range(0, len(review), REVIEW_ROWS_PER_PAGE)] or [[]]
    for number, rows in enumerate(pages):
        fig = _page(title, f"{_period_ko(report['period'])} · {number + 1}/{len(pages)}쪽 · 점수 높은 순")
        y = 0.9
        headers = ((0.06, "순위"), (0.12, "이름"), (0.25, "담당"), (0.37, "점수"), (0.43, "확인할 이유"))
        for x, header in headers:
            fig.text(x, y, header, fontsize=9, weight="bold")
        y -= 0.02
        if not rows:
            fig.text(0.06, y, "이번 기간 우선 확인 대상이 없습니다.", fontsize=10)
        for offset, row in enumerate(rows):
            rank = number * REVIEW_ROWS_PER_PAGE + offset + 1
            reasons = textwrap.wrap(" · ".join(r["text_ko"] for r in row["reasons"]), width=46)
            for x, text in ((0.06, str(rank)), (0.12, row["name"]), (0.25, row["care_worker"] or "—"),
                            (0.37, str(row["score"]))):
                fig.text(x, y, text, fontsize=9)
            for line in reasons:
                fig.text(0.43, y, line, fontsize=8.5)
                y -= 0.016
            y -= 0.01
        yield fig


def _pdf(pages: Iterator[Figure], title: str) -> bytes:
    buffer = io.BytesIO()
    with _style(), PdfPages(buffer, metadata={"Title": title, "Creator": "Dolbom"}) as pdf:
        for fig in pages:
            pdf.savefig(fig)
    return buffer.getvalue()


def regional_pdf(report: dict[str, Any]) -> bytes:
    """The regional report: an overview page with charts, then the review list."""
    report = drawable_tree(report)  # names as typed may hold characters matplotlib cannot lay out
    def pages() -> Iterator[Figure]:
        yield _overview(report)
        yield from _review_pages(report)

    return _pdf(pages(), f"{report['region']['name']} {report['period']['label']}")


def _daily_chart(ax: Axes, trend: dict[str, Any] | None, title: str, band: tuple[float, float] | None = None,
                 color: str = "#3a6ea5") -> None:
    ax.set_title(title)
    if not trend or not trend["daily"]:
        ax.text(0.5, 0.5, "이번 기간 측정 없음", ha="center", va="center", transform=ax.transAxes)
        return
    days = [int(d["day"][8:]) for d in trend["daily"]]
    ax.plot(days, [d["mean"] for d in trend["daily"]], marker="o", markersize=3, color=color, label="일 평균")
    base = trend["baseline"]
    if base["median"] is not None:
        ax.axhline(base["median"], color="#888888", linestyle="--", linewidth=1, label="평소(기준선)")
        ax.axhspan(base["p25"], base["p75"], color="#dddddd", alpha=0.6)
    if band:
        ax.axhspan(*band, color="#c8e6c9", alpha=0.4, label="목표범위")
    ax.set_xlabel("일")
    ax.legend(fontsize=7, frameon=False)


def summary_pdf(summary: dict[str, Any]) -> bytes:
    """The personal summary on one A4 page: vitals against baseline, activity, alerts."""
    summary = drawable_tree(summary)
    person, figures, adherence = summary["enrollee"], summary["figures"], summary["adherence"]
    activity, alerts = summary["activity"], summary["alerts"]

    def pages() -> Iterator[Figure]:
        worker = person["care_worker"] or "—"
        fig = _page(f"{person['name']} 님 돌봄 요약",
                    f"{_period_ko(summary['period'])} · {person['age']}세 · 담당 {worker}")
        lines = [
            f"측정: 혈압 {adherence['bp_days']}/{adherence['days_observed']}일"
            f" · 혈당 {adherence['glucose_days']}일 · 밴드 10시간 이상 착용 {adherence['wear_days']}일"
            f" · 안부 응답 {pct(adherence['checkin_share'])}",
            f"가정혈압 평균 {num(figures['sbp_mean'])}/{num(figures['dbp_mean'])} mmHg · 혈당 목표범위"
            f" {pct(figures['glucose_tir'])} · 하루 걸음 {num(activity['steps_per_day'])}"
            f" (지난 기간 {num(activity['steps_prev_per_day'])})"
            f" · 수면 {num(activity['sleep_hours'], '.1f')}시간",
            f"알림 {alerts['total']}건 · 오경보 {alerts['false_alarms']}건"
            f" · 현재 미해결 {alerts['unresolved_now']}건",
        ]
        y = _lines(fig, lines, 0.9)
        for reason in summary["review"][:4]:
            fig.text(0.07, y, f"· {reason['text_ko']}", fontsize=9, color="#a03030")
            y -= 0.018
        grid = fig.add_gridspec(3, 2, left=0.08, right=0.96, bottom=0.2, top=0.72, hspace=0.55, wspace=0.25)
        vitals = summary["vitals"]
        _daily_chart(fig.add_subplot(grid[0, 0]), vitals.get("systolic_bp"), "수축기 혈압 (mmHg)")
        _daily_chart(fig.add_subplot(grid[0, 1]), vitals.get("diastolic_bp"), "이완기 혈압 (mmHg)")
        _daily_chart(fig.add_subplot(grid[1, 0]), vitals.get("glucose"), "혈당 (mg/dL)", band=(70, 180))
        _daily_chart(fig.add_subplot(grid[1, 1]), vitals.get("heart_rate"), "심박수 (회/분)")
        ax = fig.add_subplot(grid[2, 0])
        steps = activity["steps_daily"]
        ax.bar([int(p["day"][8:]) for p in steps], [p["value"] for p in steps], color="#3a6ea5")
        if activity["steps_prev_per_day"] is not None:
            ax.axhline(activity["steps_prev_per_day"], color="#888888", linestyle="--", linewidth=1)
        ax.set_title("하루 걸음 (점선: 지난 기간 평균)")
        ax = fig.add_subplot(grid[2, 1])
        ax.bar([int(p["day"][8:]) for p in activity["sleep_daily_hours"]],
               [p["value"] for p in activity["sleep_daily_hours"]], color="#7a5ea5")
        ax.set_title("수면 (시간)")
        y = 0.15
        fig.text(0.07, y, "알림", fontsize=10, weight="bold")
        for item in alerts["items"][:6]:
            y -= 0.018
            opened = item["opened_at"][:16].replace("T", " ")
            severity = SEVERITY_KO.get(item["severity"], item["severity"])
            fig.text(0.07, y, f"{opened} · {kind_ko(item['kind'])} ({severity}) · 결과"
                              f" {outcome_ko(item['outcome'])} · 확인 {num(item['minutes_to_respond'])}분",
                     fontsize=8.5)
        yield fig

    return _pdf(pages(), f"{person['name']} {summary['period']['label']}")
