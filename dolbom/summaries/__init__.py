"""Alert summaries rendered per language from the alert's structured evidence (issue 14).

``summary(kind, severity, evidence, lang=, zone=, now=)`` is the one line a care worker reads:
what happened (values with units, the line crossed and its source, the person's usual range
for the kinds judged against it, the device and room of an SOS or a fall), when (in the
enrollee's zone, labelled, with the date when it is not ``now``'s local day there:
``dolbom.timefmt``) and what to do, e.g.

    거실 AI 스피커에서 긴급 호출 (02:17 KST): 바로 전화하거나 방문하세요
    SOS from AI speaker (living room) at 02:17 KST: call or visit now

| module | what |
|---|---|
| ``words`` | the catalogue: every word and sentence, (Korean, English) |
| ``read`` | readers that take only numbers, instants and catalogue keys; ``Ctx`` (a reader) |
| ``vitals`` | SOS, falls and readings past a line (ingest's and analytics' evidence) |
| ``activity`` | the clock's conditions and the nightly trends (analytics' evidence) |

Evidence may be old (stored before a field existed) or hostile (``dolbom.jsonsafe``):
whatever a kind lacks, the summary falls back to the stored English ``summary`` in English
and to a line of the kind's label and what to do in Korean; no input raises. Pure: no I/O,
no clock (the caller passes ``now``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from dolbom.alerts import KIND_LABELS, AlertKind
from dolbom.summaries import activity, vitals
from dolbom.summaries.read import Ctx, Lang, pick, say
from dolbom.summaries.words import ACTIONS, UNKNOWN_KIND
from dolbom.text import drawable

LANGS: Final[tuple[Lang, ...]] = ("ko", "en")
STORED_MAX: Final = 500  # characters of a stored summary shown as the English fallback

__all__ = ["LANGS", "Lang", "fallback", "summaries", "summary"]


def summary(kind: str, severity: str, evidence: object, *, lang: str, zone: ZoneInfo,
            now: datetime | None, stored: object = None) -> str:
    """The alert's summary in ``lang`` ("en", else Korean). ``zone``: the enrollee's;
    ``now``: the reader's time (None for print: dates always shown); ``stored``: the alert's
    stored English summary, the English fallback. Never raises."""
    language: Lang = "en" if lang == "en" else "ko"
    try:
        text = _render(Ctx(language, zone, _aware(now)), kind, severity, evidence)
    except Exception:  # hostile or old evidence never fails a list, a page or the stream
        text = None
    if text is None:
        return fallback(kind, language, stored)
    return text[:1].upper() + text[1:] if language == "en" else text


def summaries(kind: str, severity: str, evidence: object, *, zone: ZoneInfo,
              now: datetime | None, stored: object = None) -> dict[str, str]:
    """``{"ko": ..., "en": ...}``: the summary in both languages (the API's ``summary_text``)."""
    return {lang: summary(kind, severity, evidence, lang=lang, zone=zone, now=now, stored=stored)
            for lang in LANGS}


def fallback(kind: object, lang: Lang, stored: object = None) -> str:
    """When the evidence lacks what the kind needs: the stored summary in English, else the
    kind's label and what to do ("저혈당 알림: 바로 전화해 ...")."""
    if lang == "en" and isinstance(stored, str) and drawable(stored).strip():
        text = drawable(stored).strip()
        return text if len(text) <= STORED_MAX else text[: STORED_MAX - 1] + "…"
    member = _kind(kind)
    if member is None:
        return f"{pick(UNKNOWN_KIND, lang)}: {pick(ACTIONS['unknown'], lang)}"
    return f"{say('generic', lang, label=pick(KIND_LABELS[member], lang))}: {pick(ACTIONS[member], lang)}"


def _kind(kind: object) -> AlertKind | None:
    try:
        return AlertKind(kind) if isinstance(kind, str) else None
    except ValueError:
        return None


def _aware(now: datetime | None) -> datetime | None:
    if not isinstance(now, datetime):
        return None
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _render(ctx: Ctx, kind: object, severity: object, evidence: object) -> str | None:
    member = _kind(kind)
    if member is None or not isinstance(evidence, Mapping):
        return None
    level = severity if isinstance(severity, str) else ""
    if member in (AlertKind.SOS, AlertKind.FALL):
        return vitals.event(ctx, member, evidence)
    if member in vitals.VITAL_KINDS:
        return vitals.vital(ctx, member, level, evidence)
    render = activity.RENDERERS.get(member)
    return render(ctx, evidence) if render is not None else None
