"""Vital signs of a simulated day: the wearable's stream, home measurements and batteries.

Normal values stay inside the clinical thresholds (dolbom.thresholds) with a margin, as they do
for a stable enrollee; injected conditions push them past the thresholds the way the real
condition would (a crisis BP and its re-measure, a falling SpO2, a fever curve).

Each generator takes what it reads of the day (the person, the day's random stream, its clock
and conditions, the minute-by-minute arrays the day model made) and returns its records; the
day model (``device_sim.day``) calls them in a fixed order, so the random stream is drawn the
same way every time.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np

from device_sim.model import Person, SimDevice
from device_sim.records import DeviceState, Reading, Sample
from device_sim.timeline import Conditions, DayClock
from dolbom.alerts import AlertKind as K
from dolbom.thresholds import THRESHOLD_BY_NAME as T

HEARTBEAT_H = 3  # hours between zigbee heartbeats (Aqara sensors report about hourly)
INTERVAL_MIN = 5  # the band reports heart rate and steps every 5 minutes while worn

# Margins that keep a stable enrollee's normal readings off the alert lines (the lines are in
# dolbom.thresholds with their sources: AHA/ACC 2017, ADA 2024, NEWS2, IDSA 2008, ESC 2021).
HR_NORMAL = (T["hr_low"].value + 2, T["hr_high"].value - 3)  # 52 .. 108 /min
SBP_NORMAL_MAX = T["sbp_crisis"].value - 12  # 168 mmHg
DBP_NORMAL_MAX = T["dbp_crisis"].value - 15  # 105 mmHg
GLUCOSE_NORMAL = (T["glucose_low_l1"].value + 8, T["glucose_high"].value - 50)  # 78 .. 250
SPO2_NORMAL_MIN = T["spo2_low"].value + 2  # 93 %
TEMP_NORMAL_MAX = T["fever"].value - 0.4  # 37.4 °C


def _clip(value: float, low: float, high: float) -> float:
    """Scalar clip (np.clip costs microseconds per call on scalars)."""
    return min(high, max(low, float(value)))


def zigbee_battery(day: date, devices: Iterable[SimDevice]) -> dict[str, int]:
    """Battery % of each zigbee sensor: a slow, steady decline (CR2032 cells last ~2 years)."""
    days = day.toordinal() - 739617  # days since 2026-01-01
    batteries = {}
    for device in devices:
        if device.zigbee:
            b0 = 70 + zlib.crc32(device.device_id.encode()) % 31
            batteries[device.key] = int(_clip(round(b0 - 0.03 * days), 35, 100))
    return batteries


def _inside(minute: float, windows: list[tuple[float, float]]) -> bool:
    return any(s <= minute < e for s, e in windows)


def _near(minute: float, windows: list[tuple[float, float]]) -> bool:
    """Within 45 minutes of a window (a normal measurement would blur an injected one)."""
    return any(s - 45 <= minute <= e + 45 for s, e in windows)


def _blocked(blocked: np.ndarray, minute: float) -> bool:
    m = int(minute)
    return 0 <= m < 1440 and bool(blocked[m])


def wearable(
    *,
    person: Person,
    rng: np.random.Generator,
    clock: DayClock,
    conditions: Conditions,
    steps: np.ndarray,
    asleep: np.ndarray,
    worn: np.ndarray,
    wake_min: float,
    prev_bed_min: float,
    disrupted_night: bool,
) -> list[Sample]:
    """Heart rate and steps every 5 minutes while worn; SpO2, temperature and sleep a few times.

    ``steps`` per minute, ``asleep`` and ``worn`` per minute of the day; ``prev_bed_min``: when
    the person went to bed the evening before; ``disrupted_night``: a broken night (shorter sleep).
    """
    r, p = rng, person
    n = 1440 // INTERVAL_MIN
    minutes = np.arange(1440)
    hour = minutes / 60.0
    brady, tachy = conditions.spans(K.BRADYCARDIA), conditions.spans(K.TACHYCARDIA)
    worn = worn.copy()
    for s, e in brady + tachy:
        worn[max(0, int(s)): max(0, min(1440, int(e) + 1))] = True
    # Circadian heart rate: lowest asleep before dawn, a little higher in the afternoon.
    hr = p.hr_rest + 3 * np.sin((hour - 9) / 24 * 2 * math.pi) + 0.2 * np.minimum(steps, 110)
    hr = np.where(asleep, p.hr_rest - 8 + 2 * np.sin(hour / 24 * 2 * math.pi), hr)
    fever = conditions.spans(K.FEVER)
    for s, e in fever + conditions.spans(K.LOW_SPO2):
        hr[max(0, int(s)): max(0, min(1440, int(e)))] += 10
    for s, e in conditions.spans(K.FALL):
        hr[max(0, int(s)): max(0, min(1440, int(e)))] += 12
    noise = np.empty(n)
    eps = r.normal(0, 2.2, n)
    acc = 0.0
    for i in range(n):  # AR(1): minute-to-minute heart rate is correlated
        acc = 0.7 * acc + eps[i]
        noise[i] = acc
    hr5 = hr.reshape(n, INTERVAL_MIN).mean(axis=1) + noise
    hr5 = np.clip(hr5, *HR_NORMAL)
    mid = np.arange(n) * INTERVAL_MIN + INTERVAL_MIN / 2
    for s, e in brady:
        sel = (mid >= s) & (mid < e)
        hr5[sel] = r.uniform(35, 40, int(sel.sum()))  # NEWS2: <= 40 /min scores 3
    for s, e in tachy:
        sel = (mid >= s) & (mid < e)
        hr5[sel] = r.uniform(142, 158, int(sel.sum()))  # NEWS2: >= 131 /min scores 3
    steps5 = steps.reshape(n, INTERVAL_MIN).sum(axis=1)
    worn5 = worn.reshape(n, INTERVAL_MIN).all(axis=1)
    stream: list[Sample] = []
    for i in np.flatnonzero(worn5).tolist():
        ts = clock.ms((i + 1) * INTERVAL_MIN)
        stream.append((ts, {"heart_rate": round(hr5[i]), "steps": int(steps5[i])}))
    # Spot readings: SpO2 three times a day, temperature each morning, last night's sleep.
    low_spo2 = conditions.spans(K.LOW_SPO2)
    for t in (3 * 60 + r.uniform(0, 30), 14 * 60 + r.uniform(0, 60), 20.5 * 60):
        if worn[int(t)] and not _inside(t, low_spo2):
            v = _clip(round(p.spo2 + r.normal(0, 0.8)), SPO2_NORMAL_MIN, 99)
            stream.append((clock.ms(t), {"spo2": float(v)}))
    for s, e in low_spo2:
        for t in np.arange(max(0.0, s), min(1440.0, e), 15.0):
            stream.append((clock.ms(t), {"spo2": float(r.integers(84, 89))}))  # NEWS2 <= 88 %
    wake = wake_min
    night_awake = int((~asleep[: int(wake)]).sum())
    slept = (1440 - prev_bed_min) + wake - r.uniform(10, 30) - night_awake * 1.5
    slept -= r.uniform(0, 25) + (45 if disrupted_night else 0)
    if worn[int(wake)]:
        stream.append((clock.ms(wake + 5), {"sleep_minutes": float(round(max(60.0, slept))),
                                        "respiratory_rate": float(round(r.normal(15.5, 1.2)))}))
    t = wake + 30
    if worn[int(t)] and not _inside(t, fever):
        temp = _clip(p.temp_c + r.normal(0, 0.15), 35.9, TEMP_NORMAL_MAX)
        stream.append((clock.ms(t), {"body_temp": round(float(temp), 1)}))
    for s, e in fever:  # IDSA 2008: > 37.8 °C is fever in an older adult
        for t in np.arange(max(0.0, s), min(1440.0, e), 240.0):
            stream.append((clock.ms(t), {"body_temp": round(float(r.uniform(38.1, 38.8)), 1)}))
    stream.sort(key=lambda item: item[0])
    return stream


def bp_readings(
    *,
    person: Person,
    rng: np.random.Generator,
    clock: DayClock,
    conditions: Conditions,
    wake_min: float,
    blocked: np.ndarray,
) -> list[Reading]:
    """The BP cuff: on waking and in the evening, and an injected crisis with its re-measure.

    ``blocked`` per minute of the day: the person cannot do their routine (lying still, away).
    """
    r, p = rng, person
    readings: list[Reading] = []
    crisis = conditions.spans(K.HYPERTENSIVE_CRISIS)
    # Blood pressure twice daily: on waking (before medication; the morning surge) and evening.
    for t, surge, prob in ((wake_min + 20 + r.uniform(0, 10), 6.0, 0.9),
                           (20 * 60 + r.normal(0, 20), 0.0, 0.8)):
        if r.random() < prob and not _blocked(blocked, t) and not _near(t, crisis):
            sbp = _clip(p.sbp + surge + r.normal(0, 7), 95, SBP_NORMAL_MAX)
            dbp = _clip(p.dbp + surge / 3 + r.normal(0, 5), 55, min(DBP_NORMAL_MAX, sbp - 25))
            pulse = _clip(p.hr_rest + r.normal(2, 4), *HR_NORMAL)
            readings.append(("bp", clock.ms(t), {"systolic_bp": int(sbp), "diastolic_bp": int(dbp),
                                                 "heart_rate": int(pulse)}))
    for s, _ in crisis:  # AHA/ACC 2017: >= 180/120; re-measured after a few minutes' rest
        for dt in (0.0, float(r.uniform(3, 6))):
            readings.append(("bp", clock.ms(s + dt), {
                "systolic_bp": int(r.integers(182, 198)), "diastolic_bp": int(r.integers(108, 124)),
                "heart_rate": int(r.integers(84, 100))}))
    return readings


def glucose_readings(
    *,
    person: Person,
    rng: np.random.Generator,
    clock: DayClock,
    conditions: Conditions,
    day: date,
    wake_min: float,
    bed_min: float,
    lunch_min: float,
    dinner_min: float,
    blocked: np.ndarray,
) -> list[Reading]:
    """The glucometer: diabetics before breakfast and after some meals; others now and then."""
    r, p = rng, person
    readings: list[Reading] = []
    wake = wake_min
    hypo, hyper = conditions.spans(K.HYPOGLYCEMIA), conditions.spans(K.HYPERGLYCEMIA)
    diabetic = "diabetes" in p.conditions
    times: list[tuple[float, float]] = []
    if diabetic:
        if r.random() < 0.9:
            times.append((wake + 10, p.glucose_fasting + r.normal(0, 12)))
        for meal, prob in ((lunch_min, 0.5), (dinner_min, 0.4)):
            if r.random() < prob:
                times.append((meal + 100, p.glucose_fasting + 45 + r.normal(0, 20)))
        if r.random() < 0.2:
            times.append((bed_min - 20, p.glucose_fasting + 15 + r.normal(0, 15)))
    elif day.weekday() == 6 and r.random() < 0.5:
        times.append((wake + 10, 94 + r.normal(0, 7)))
    for t, value in times:
        if not _blocked(blocked, t) and not _near(t, hypo + hyper):
            readings.append(("glu", clock.ms(t), {"glucose": int(_clip(value, *GLUCOSE_NORMAL))}))
    for s, _ in hypo:  # ADA 2024: < 54 mg/dL level 2; re-check 15 min after 15 g carbohydrate
        readings.append(("glu", clock.ms(s), {"glucose": int(r.integers(42, 52))}))
        readings.append(("glu", clock.ms(s + 15), {"glucose": int(r.integers(66, 82))}))
    for s, e in hyper:  # ADA: > 300 mg/dL, checked again a few hours later
        readings.append(("glu", clock.ms(s), {"glucose": int(r.integers(305, 340))}))
        readings.append(("glu", clock.ms(max(s + 60, e - 30)),
                         {"glucose": int(r.integers(318, 365))}))
    return readings


def _weight_kg(person: Person, rng: np.random.Generator, conditions: Conditions, day: date) -> float:
    p = person
    drift = 0.5 * math.sin(2 * math.pi * day.toordinal() / 61 + p.phase)
    gain = 0.0
    noon = 12 * 60
    for s, e in conditions.all_spans(K.RAPID_WEIGHT_GAIN):
        if noon < s:
            continue
        if noon <= e:  # fluid retention: +2.4 kg over the window (ESC 2021: > 2 kg in 3 days)
            gain = 2.4 * min(1.0, (noon - s + 720) / max(1.0, e - s))
        else:  # diuretics bring it back over ~4 days
            gain = max(gain, 2.4 * (1 - (noon - e) / (4 * 1440)))
    return p.weight_kg + drift + gain + float(rng.normal(0, 0.25))


def scale_readings(
    *,
    person: Person,
    rng: np.random.Generator,
    clock: DayClock,
    conditions: Conditions,
    day: date,
    wake_min: float,
    blocked: np.ndarray,
) -> list[Reading]:
    """The scale: most mornings after the toilet; daily when a weight gain is being watched."""
    weight_days = conditions.spans(K.RAPID_WEIGHT_GAIN)
    daily = person.profile == "heart_failure" or (bool(weight_days) and any(
        s - 1440 <= 720 <= e + 4 * 1440 for s, e in weight_days))
    t = wake_min + 13
    if (daily or rng.random() < 0.85) and not _blocked(blocked, t):
        weight = _weight_kg(person, rng, conditions, day)
        return [("scale", clock.ms(t), {"weight": round(weight, 1)})]
    return []


def _wear_battery(person: Person, day: date, minute: float) -> int:
    """Band battery: charged on charge evenings (~20:30), ~0.5 %/hour between charges."""
    k = (day.toordinal() + person.phase) % person.wear_charge_days
    hours = k * 24 + minute / 60 - 20.5
    if hours < 0:
        hours += person.wear_charge_days * 24
    return int(_clip(round(100 - 0.5 * hours), 20, 100))


def device_status(
    *, person: Person, clock: DayClock, conditions: Conditions, day: date, worn: np.ndarray
) -> list[DeviceState]:
    """Device status: the band hourly with battery (while worn), other devices once a day."""
    status: list[DeviceState] = []
    low = conditions.spans(K.LOW_BATTERY)
    for hour in range(1, 25):
        t = hour * 60 - 1
        battery = _wear_battery(person, day, t)
        for s, e in low:
            if s <= t < e:  # a band left uncharged: below 15 % and falling (alert < 15 %)
                battery = round(14 - 8 * (t - s) / max(1.0, e - s))
        if worn[min(t, 1439)] or any(s <= t < e for s, e in low):
            status.append(("wear", clock.ms(t) + 30_000, {"battery": battery, "online": True}))
    per_device = zlib.crc32(person.key.encode()) % 20
    for key in ("bp", "glu", "scale"):
        status.append((key, clock.ms(3 * 60 + per_device), {"battery": 75 + per_device,
                                                            "online": True}))
    for key in ("spk", "hub", "bed"):
        status.append((key, clock.ms(3 * 60 + 1), {"online": True}))
    return status


def zigbee_reports(
    *, person: Person, rng: np.random.Generator, clock: DayClock, day: date
) -> list[DeviceState]:
    """zigbee heartbeats every few hours, and the living-room sensor's temperature hourly."""
    z2m: list[DeviceState] = []
    r = rng
    lq = int(r.integers(80, 150))
    batteries = zigbee_battery(day, person.devices)
    # zigbee end devices report in every few hours even when nothing happens (heartbeat).
    for key, level in batteries.items():
        offset = zlib.crc32(key.encode()) % 60
        for hour in range(0, 24, HEARTBEAT_H):
            z2m.append((key, clock.ms(hour * 60 + offset + 0.25), {
                "battery": level, "voltage": 2800 + 4 * level, "linkquality": lq}))
    battery = batteries["pir-living"]
    base = 22.0 + 1.5 * math.sin(2 * math.pi * day.toordinal() / 365)
    for hour in range(24):
        temp = base + 1.2 * math.sin((hour - 9) / 24 * 2 * math.pi) + r.normal(0, 0.2)
        state: dict[str, Any] = {"temperature": round(temp, 1),
                                 "humidity": round(min(70.0, max(25.0, r.normal(46, 4))), 1),
                                 "battery": battery, "linkquality": lq}
        z2m.append(("pir-living", clock.ms(hour * 60 + 30), state))
    return z2m
