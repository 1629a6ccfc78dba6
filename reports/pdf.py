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
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dolbom.rules import enrollee_zone
from dolbom.text import drawable_tree
from dolbom.timefmt import when
from reports.errors import ReportError
from reports.labels import CHANNEL_KO, CONTACT_GROUP_KO, SEVERITY_KO

A4_INCHES: Final = (8.27, 11.69)
logging.getLogger("fontTools").setLevel(logging.ERROR)  # its subsetter warns about every dropped table
REVIEW_ROWS_PER_PAGE: Final = 22
REVIEW_MAX_ROWS: Final = 88
NO_DATA: Final = "자료 없음"
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


def page(title: str, subtitle: str) -> Figure:
    fig = Figure(figsize=A4_INCHES)
    fig.text(0.06, 0.955, title, fontsize=16, weight="bold")
    fig.text(0.06, 0.935, subtitle, fontsize=9, color="#555555")
    return fig


def period_ko(period: dict[str, Any]) -> str:
    kind = "월간" if period["kind"] == "month" else "주간"
    end = date.fromisoformat(period["end"]).toordinal() - 1
    return f"{kind} {period['label']} ({period['start']} ~ {date.fromordinal(end).isoformat()})"


def as_of_ko(report: dict[str, Any], timezone: str | None) -> str:
    """"기준 시각" of a report in ``timezone`` (the enrollee's, or the region's), labelled
    (``dolbom.timefmt``; a zone the system lacks is Seoul, ``dolbom.rules.enrollee_zone``)."""
    return f"기준 시각 {when(datetime.fromisoformat(report['as_of']), enrollee_zone(timezone), 'ko')}"


def lines(fig: Figure, texts: Sequence[str], top: float, step: float = 0.021, size: float = 10) -> float:
    y = top
    for line in texts:
        fig.text(0.07, y, line, fontsize=size)
        y -= step
    return y


def no_data(ax: Axes, title: str, text: str = NO_DATA) -> None:
    """An empty chart: its title and a sentence, no axis (matplotlib would invent one,
    -0.045 to 0.045 for a row of zeros)."""
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_facecolor("#f6f7f8")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")


def _bars(ax: Axes, labels: Sequence[str], values: Sequence[float | None], title: str,
          unit: str = "", top: float | None = None, empty: str = NO_DATA) -> None:
    """Bars with their values written on them; a value that is None (no population) is "—",
    not a bar of 0. All None or all 0: ``no_data`` with ``empty``."""
    if not any(values):
        no_data(ax, title, empty)
        return
    positions = range(len(labels))
    bars = ax.bar(positions, [v or 0 for v in values], color="#3a6ea5")
    ax.set_xticks(list(positions), labels)
    ax.set_title(title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if top is not None:  # a share: 0, 25, 50, 75, 100 %
        ax.set_yticks(range(0, int(top), 25))
    ax.set_ylim(0, top or max(v or 0 for v in values) * 1.15)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate("—" if value is None else f"{value:,.0f}{unit}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                    fontsize=8)


def _response_chart(ax: Axes, times: dict[str, Any], severities: Sequence[str]) -> None:
    title = "알림 확인까지 걸린 시간 (분)"
    groups = (*severities, "all")
    medians = [times[s]["acknowledge"]["median_min"] for s in groups]
    p90s = [times[s]["acknowledge"]["p90_min"] for s in groups]
    if all(m is None for m in medians):
        no_data(ax, title, "이번 기간 확인된 알림 없음")
        return
    xs = range(len(groups))
    ax.bar([x - 0.2 for x in xs], [m or 0 for m in medians], width=0.4, label="중앙값", color="#3a6ea5")
    ax.bar([x + 0.2 for x in xs], [p or 0 for p in p90s], width=0.4, label="90백분위", color="#e0a030")
    for x, median in zip(xs, medians, strict=True):
        if median is None:
            ax.annotate("—", (x, 0), ha="center", va="bottom", fontsize=8, color="#666666")
    ax.set_xticks(list(xs), [SEVERITY_KO[s] for s in groups])
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)


def _steps_histogram(ax: Axes, rows: Sequence[dict[str, Any]]) -> None:
    """People by their mean steps a day, this period and the last: whole people on the axis."""
    title = "대상자별 하루 평균 걸음 분포"
    now = [r["steps_per_day"] for r in rows if r["steps_per_day"] is not None]
    before = [r["steps_prev_per_day"] for r in rows if r["steps_prev_per_day"] is not None]
    if not (now or before):
        no_data(ax, title)
        return
    ax.hist([before, now], bins=10, label=["지난 기간", "이번 기간"], color=["#bbbbbb", "#3a6ea5"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel("명", rotation=0, labelpad=10)
    ax.set_xlabel("하루 평균 걸음")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title)


def _contact_lines(contacts: dict[str, Any] | None) -> list[str]:
    """The contacts in the programme's groups (비대면 / 대면), each group with its channels,
    then per enrollee-month; nothing for a report stored before contacts were counted."""
    if contacts is None:
        return []
    groups = []
    for group, channels in contacts["groups"].items():
        parts = " · ".join(f"{CHANNEL_KO[c]} {contacts['by_channel'][c]}" for c in channels)
        groups.append(f"{CONTACT_GROUP_KO[group]} {contacts['by_group'][group]}건 ({parts})")
    rates = contacts["per_enrollee_month"]
    per_group = " · ".join(f"{CONTACT_GROUP_KO[g]} {num(r, '.2f')}" for g, r in rates["by_group"].items())
    return [
        f"연락: 전체 {contacts['total']}건 · " + " · ".join(groups),
        f"대상자 1인·월당 연락: {num(rates['total'], '.2f')}건 ({per_group})"
        f" · 관찰 {num(contacts['enrollee_months'], '.1f')}인·월",
    ]


def _overview(report: dict[str, Any]) -> Figure:
    region, people = report["region"], report["enrollees"]
    fig = page(f"{region['name']} 돌봄 보고서",
               f"{period_ko(report['period'])} · {as_of_ko(report, region.get('timezone'))}")
    adherence, bp, glucose = report["adherence"], report["bp_control"], report["glucose"]
    steps, alerts, devices = report["steps"], report["alerts"], report["devices"]
    checkins = report["checkins"]
    texts = [
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
        *_contact_lines(report.get("contacts")),
    ]
    lines(fig, texts, 0.895)

    grid = fig.add_gridspec(2, 2, left=0.08, right=0.96, bottom=0.06, top=0.64, hspace=0.38, wspace=0.28)
    share_labels = ["혈압", "혈당", "밴드 착용", "안부 응답"]
    shares = [adherence["bp"]["share"], adherence["glucose"]["share"], adherence["wear"]["share"],
              report["checkins"]["share"]]
    _bars(fig.add_subplot(grid[0, 0]), share_labels, [None if s is None else 100 * s for s in shares],
          "측정·응답률 (%)", "%", top=110)

    severities = ["critical", "high", "medium", "low"]
    _bars(fig.add_subplot(grid[0, 1]), [SEVERITY_KO[s] for s in severities],
          [alerts["by_severity"][s] for s in severities], "심각도별 알림 (건)", empty="이번 기간 알림 없음")
    _response_chart(fig.add_subplot(grid[1, 0]), report["response_times"], severities)
    _steps_histogram(fig.add_subplot(grid[1, 1]), report["enrollees_detail"])
    return fig


def _review_pages(report: dict[str, Any]) -> Iterator[Figure]:
    review = report["review"][:REVIEW_MAX_ROWS]
    title = f"{report['region']['name']} · 우선 확인 대상 ({len(report['review'])}명)"
    pages = [review[k:k + REVIEW_ROWS_PER_PAGE] for k in range(0, len(review), REVIEW_ROWS_PER_PAGE)] or [[]]
    for number, rows in enumerate(pages):
        fig = page(title, f"{period_ko(report['period'])} · {number + 1}/{len(pages)}쪽 · 점수 높은 순")
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


def pdf_bytes(pages: Iterator[Figure], title: str) -> bytes:
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

    return pdf_bytes(pages(), f"{report['region']['name']} {report['period']['label']}")
