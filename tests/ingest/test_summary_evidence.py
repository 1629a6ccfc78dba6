"""On-arrival alerts carry what their summary is rendered from in each language (issue 14):
stored through the real path (ingest.offline.load), rendered by dolbom.summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import psycopg

from dolbom.summaries import summaries
from ingest.offline import load
from tests.factories import make_device, make_enrollee

SIM_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
AUCKLAND = ZoneInfo("Pacific/Auckland")  # UTC+13 in March (NZDT): another day than UTC


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def test_sos_fall_and_readings_render_in_both_languages(db: psycopg.Connection, db_url: str) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, kind="ai_speaker", device_id="spk-s", room="living")
    make_device(db, enrollee, kind="bed_sensor", device_id="radar-s", room="bedroom")
    make_device(db, enrollee, kind="bp_monitor", device_id="cuff-s")
    make_device(db, enrollee, kind="glucometer", device_id="meter-s")
    t0 = SIM_START + timedelta(hours=13, minutes=17)  # 02:17 on 3 March in Auckland
    load(db_url, [
        ("dolbom/v1/spk-s/event", orjson.dumps({"ts": _ms(t0), "type": "sos"}), t0),
        ("zigbee2mqtt/radar-s", b'{"fall_status": "fall_alarm"}', t0),
        ("dolbom/v1/meter-s/reading", orjson.dumps({"ts": _ms(t0), "values": {"glucose": 48}}), t0),
        ("dolbom/v1/cuff-s/reading",
         orjson.dumps({"ts": _ms(t0), "values": {"systolic_bp": 186, "diastolic_bp": 124}}), t0),
    ])
    rows = db.execute("SELECT kind, severity, summary, evidence FROM alerts WHERE enrollee_id = %s",
                      (enrollee,)).fetchall()
    shown = {kind: summaries(kind, severity, evidence, zone=AUCKLAND, now=t0, stored=summary)
             for kind, severity, summary, evidence in rows}
    assert shown["sos"] == {
        "ko": "거실 AI 스피커에서 긴급 호출 (02:17 NZDT): 바로 전화하거나 방문하세요",
        "en": "SOS from AI speaker (living room) at 02:17 NZDT: call or visit now"}
    assert shown["fall"]["ko"].startswith("침실 침대 센서에서 낙상 감지 (02:17 NZDT)")
    assert shown["hypoglycemia"]["ko"].startswith("혈당 48 mg/dL, 02:17 NZDT 측정 (기준 < 54, ADA 2024)")
    # both values crossed their lines: the pair is in the evidence without the writer's help
    assert shown["hypertensive_crisis"]["en"] == (
        "BP 186/124 mmHg at 02:17 NZDT (line ≥ 180, AHA/ACC 2017): repeat the measurement to confirm")
    sos_evidence = next(evidence for kind, _, _, evidence in rows if kind == "sos")
    a_day_later = summaries("sos", "critical", sos_evidence, zone=AUCKLAND, now=t0 + timedelta(days=1))
    assert a_day_later["ko"] == ("거실 AI 스피커에서 긴급 호출 (3월 3일 02:17 NZDT): "
                                 "바로 전화하거나 방문하세요")
