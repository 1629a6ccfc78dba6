"""Replay of real data sets, on small excerpts written here in the real files' formats."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from device_sim import replay
from tests.device_sim.conftest import SEOUL

decode_mod = pytest.importorskip("ingest.decode")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=SEOUL)  # a Tuesday


def _crlf(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def fitbit_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "fitbit_fitabase"
    folder.mkdir()
    steps = ["Id,ActivityMinute,Steps"]
    for minute in range(0, 24 * 60, 1):  # one day, 4/12/2016, minute by minute
        h, m = divmod(minute, 60)
        half = "AM" if h < 12 else "PM"
        clock = f"{h % 12 or 12}:{m:02d}:00 {half}"
        steps.append(f"1503960366,4/12/2016 {clock},{(minute % 7) * 3 if 8 <= h < 20 else 0}")
        steps.append(f"1624580081,4/13/2016 {clock},{minute % 5}")
    (folder / "minuteStepsNarrow_merged.csv.gz").write_bytes(gzip.compress(_crlf(steps)))
    hr = ["Id,Time,Value", "1503960366,4/12/2016 7:21:00 AM,97",
          "1503960366,4/12/2016 7:21:05 AM,103", "1503960366,4/12/2016 7:26:10 AM,88"]
    (folder / "heartrate_seconds_merged.5of14subjects.csv.gz").write_bytes(gzip.compress(_crlf(hr)))
    (folder / "sleepDay_merged.csv").write_bytes(_crlf([
        "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed",
        "1503960366,4/12/2016 12:00:00 AM,1,327,346"]))
    (folder / "weightLogInfo_merged.csv").write_bytes(_crlf([
        "Id,Date,WeightKg,WeightPounds,Fat,BMI,IsManualReport,LogId",
        "1503960366,4/12/2016 11:59:59 PM,52.5999984741211,115.96,22,22.65,True,1462233599000"]))
    return folder


def _decode_all(r: replay.Replay) -> tuple[int, list[object]]:
    accepted, rejects = 0, []
    for _, topic, payload, _, _ in r.frames:
        d = decode_mod.decode(topic, payload, NOW, NOW)
        accepted += d.accepted
        rejects += list(d.rejects)
    return accepted, rejects


def test_fitbit_excerpt_replays_shifted_by_whole_weeks(fitbit_dir: Path) -> None:
    r = replay.fitbit(fitbit_dir, 28, NOW)
    assert [p.key for p in r.population.people] == ["fitbit-1503960366", "fitbit-1624580081"]
    _, rejects = _decode_all(r)
    assert rejects == []
    readings = [d for _, t, p, _, _ in r.frames
                for d in decode_mod.decode(t, p, NOW, NOW).readings]
    first = [x for x in readings if x.device_id == "fb1503960366-wear"]
    steps = sum(x.value for x in first if x.metric == "steps")
    assert steps == sum((m % 7) * 3 for m in range(8 * 60, 20 * 60))  # nothing lost or doubled
    hr = [x for x in first if x.metric == "heart_rate"]
    assert [round(x.value) for x in hr] == [100, 88]  # 5-minute means of the seconds data
    local = hr[0].ts.astimezone(SEOUL)
    assert (local.hour, local.minute) == (7, 25)  # bin 7:20-7:25 reported at its end
    assert local.weekday() == datetime(2016, 4, 12).weekday()  # whole weeks: same weekday
    assert NOW - timedelta(days=8) < local < NOW
    assert {x.metric for x in readings} >= {"steps", "heart_rate", "sleep_minutes", "weight"}


def test_ordonez_excerpt_maps_sensors_to_home_events(tmp_path: Path) -> None:
    folder = tmp_path / "ordonez"
    folder.mkdir()
    rows = ["Start time          \tEnd time            \tLocation\tType\t\tPlace",
            "--------------------\t--------------------\t--------\t--------\t-----",
            "2011-11-28 02:27:59\t\t2011-11-28 10:18:11\t\tBed\t\t\tPressure\tBedroom",
            "2011-11-28 10:21:24\t\t2011-11-28 10:21:31\t\tCabinet\t\tMagnetic\tBathroom",
            "2011-11-28 10:21:44\t\t2011-11-28 10:23:31\t\tBasin\t\tPIR\t\tBathroom",
            "2011-11-28 10:25:44\t\t2011-11-28 10:25:46\t\tToilet\t\tFlush\t\tBathroom",
            "2011-11-28 11:40:00\t\t2011-11-28 11:40:20\t\tMaindoor\tMagnetic\tEntrance",
            "garbage line"]
    (folder / "OrdonezA_Sensors.txt").write_bytes(_crlf(rows))
    r = replay.ordonez(folder, 28, NOW)
    assert r.skipped.count == 1
    _, rejects = _decode_all(r)
    assert rejects == []
    events = sorted((e.ts, e.device_id.split("-", 1)[1], e.type)
                    for _, t, p, _, _ in r.frames
                    for e in decode_mod.decode(t, p, NOW, NOW).events)
    assert [(d, k) for _, d, k in events] == [
        ("bed", "bed_entry"), ("bed", "bed_exit"), ("pir-bathroom", "motion"),
        ("pir-bathroom", "motion"), ("hub", "toilet"), ("door", "door_open"),
        ("door", "door_close")]
    assert events[0][0].astimezone(SEOUL).strftime("%H:%M:%S") == "02:27:59"


def test_kahn_excerpt_keeps_glucose_and_labels_hypoglycemia(tmp_path: Path) -> None:
    folder = tmp_path / "kahn"
    folder.mkdir()
    (folder / "data-01").write_text(
        "04-21-1991\t9:09\t58\t100\n"
        "04-21-1991\t9:09\t33\t009\n"
        "04-21-1991\t17:08\t62\t046\n"
        "04-21-1991\t17:10\t65\t000\n"
        "04-22-1991\t7:35\t58\t000\n"   # a zero reading: outside the plausible range, skipped
        "06-31-1991\t8:00\t58\t120\n"   # an impossible date in the original
        "04-22-1991\t56:35\t58\t120\n", encoding="ascii")
    r = replay.kahn(folder, 28, NOW)
    assert r.skipped.count == 3
    accepted, rejects = _decode_all(r)
    assert rejects == [] and accepted == 3
    assert [(t.enrollee, t.kind) for t in r.truths] == [("kahn-01", "hypoglycemia")]
    assert r.truths[0].start.strftime("%H:%M") == "17:10"


def test_missing_files_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(replay.ReplayDataError, match="minuteStepsNarrow"):
        replay.fitbit(tmp_path, 28, NOW)
    with pytest.raises(replay.ReplayDataError, match="data-NN"):
        replay.kahn(tmp_path, 28, NOW)
