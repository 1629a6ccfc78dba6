"""Vital signs of a simulated day: the wearable's stream, home measurements and batteries.

Normal values stay inside the clinical thresholds (dolbom.thresholds) with a margin, as they do
for a stable enrollee; injected conditions push them past the thresholds the way the real
condition would (a crisis BP and its re-measure, a falling SpO2, a fever curve).
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from dolbom.alerts import AlertKind as K
from dolbom.thresholds import THRESHOLD_BY_NAME as T

if TYPE_CHECKING:
    from device_sim.day import DayBuilder

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


def zigbee_battery(b: DayBuilder) -> dict[str, int]:
    """Battery % of each zigbee sensor: a slow, steady decline (CR2032 cells last ~2 years)."""
    days = b.day.toordinal() - 739617  # days since 2026-01-01
    batteries = {}
    for device in b.p.devices:
        if device.zigbee:
            b0 = 70 + zlib.crc32(device.device_id.encode()) % 31
            batteries[device.key] = int(_clip(round(b0 - 0.03 * days), 35, 100))
    return batteries


def _windows(b: DayBuilder, kind: str) -> list[tuple[float, float]]:
    return [(s, e) for _, s, e in b.active(kind)]


def _inside(minute: float, windows: list[tuple[float, float]]) -> bool:
    return any(s <= minute < e for s, e in windows)


def wearable(b: DayBuilder, steps: np.ndarray) -> None:
    """Heart rate and steps every 5 minutes while worn; SpO2, temperature and sleep a few times."""
    r, p = b.r, b.p
    n = 1440 // INTERVAL_MIN
    minutes = np.arange(1440)
    hour = minutes / 60.0
    brady, tachy = _windows(b, K.BRADYCARDIA), _windows(b, K.TACHYCARDIA)
    worn = b.worn.copy()
    for s, e in brady + tachy:
        worn[max(0, int(s)): max(0, min(1440, int(e) + 1))] = True
    # Circadian heart rate: lowest asleep before dawn, a little higher in the afternoon.
    hr = p.hr_rest + 3 * np.sin((hour - 9) / 24 * 2 * math.pi) + 0.2 * np.minimum(steps, 110)
    hr = np.where(b.asleep, p.hr_rest - 8 + 2 * np.sin(hour / 24 * 2 * math.pi), hr)
    fever = _windows(b, K.FEVER)
    for s, e in fever + _windows(b, K.LOW_SPO2):
        hr[max(0, int(s)): max(0, min(1440, int(e)))] += 10
    for _, s, e in b.active(K.FALL):
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
    stream = b.out.stream
    for i in np.flatnonzero(worn5).tolist():
        ts = b.ms((i + 1) * INTERVAL_MIN)
        stream.append((ts, {"heart_rate": round(hr5[i]), "steps": int(steps5[i])}))
    # Spot readings: SpO2 three times a day, temperature each morning, last night's sleep.
    low_spo2 = _windows(b, K.LOW_SPO2)
    for t in (3 * 60 + r.uniform(0, 30), 14 * 60 + r.uniform(0, 60), 20.5 * 60):
        if worn[int(t)] and not _inside(t, low_spo2):
            v = _clip(round(p.spo2 + r.normal(0, 0.8)), SPO2_NORMAL_MIN, 99)
            stream.append((b.ms(t), {"spo2": float(v)}))
    for s, e in low_spo2:
        for t in np.arange(max(0.0, s), min(1440.0, e), 15.0):
            stream.append((b.ms(t), {"spo2": float(r.integers(84, 89))}))  # NEWS2 <= 88 %
    wake = b.sched.wake_min
    night_awake = int((~b.asleep[: int(wake)]).sum())
    slept = (1440 - b.prev.bed_min) + wake - r.uniform(10, 30) - night_awake * 1.5
    slept -= r.uniform(0, 25) + (45 if b.disrupted_night() else 0)
    if worn[int(wake)]:
        stream.append((b.ms(wake + 5), {"sleep_minutes": float(round(max(60.0, slept))),
                                        "respiratory_rate": float(round(r.normal(15.5, 1.2)))}))
    t = wake + 30
    if worn[int(t)] and not _inside(t, fever):
        temp = _clip(p.temp_c + r.normal(0, 0.15), 35.9, TEMP_NORMAL_MAX)
        stream.append((b.ms(t), {"body_temp": round(float(temp), 1)}))
    for s, e in fever:  # IDSA 2008: > 37.8 °C is fever in an older adult
        for t in np.arange(max(0.0, s), min(1440.0, e), 240.0):
            stream.append((b.ms(t), {"body_temp": round(float(r.uniform(38.1, 38.8)), 1)}))
    stream.sort(key=lambda item: item[0])


def _weight(b: DayBuilder) -> float:
    p, r = b.p, b.r
    drift = 0.5 * math.sin(2 * math.pi * b.day.toordinal() / 61 + p.phase)
    gain = 0.0
    noon = 12 * 60
    for _, s, e in [(i, s, e) for i, s, e in b.inj if i.kind == K.RAPID_WEIGHT_GAIN]:
        if noon < s:
            continue
        if noon <= e:  # fluid retention: +2.4 kg over the window (ESC 2021: > 2 kg in 3 days)
            gain = 2.4 * min(1.0, (noon - s + 720) / max(1.0, e - s))
        else:  # diuretics bring it back over ~4 days
            gain = max(gain, 2.4 * (1 - (noon - e) / (4 * 1440)))
    return p.weight_kg + drift + gain + float(r.normal(0, 0.25))


def measurements(b: DayBuilder) -> None:
    """BP cuff, glucometer and scale: what the person measures at home, and when."""
    r, p, out = b.r, b.p, b.out
    wake = b.sched.wake_min
    crisis = _windows(b, K.HYPERTENSIVE_CRISIS)
    hypo, hyper = _windows(b, K.HYPOGLYCEMIA), _windows(b, K.HYPERGLYCEMIA)
    weight_days = _windows(b, K.RAPID_WEIGHT_GAIN)

    def near(t: float, windows: list[tuple[float, float]]) -> bool:
        return any(s - 45 <= t <= e + 45 for s, e in windows)

    # Blood pressure twice daily: on waking (before medication; the morning surge) and evening.
    for t, surge, prob in ((wake + 20 + r.uniform(0, 10), 6.0, 0.9),
                           (20 * 60 + r.normal(0, 20), 0.0, 0.8)):
        if r.random() < prob and not b.blocked(t) and not near(t, crisis):
            sbp = _clip(p.sbp + surge + r.normal(0, 7), 95, SBP_NORMAL_MAX)
            dbp = _clip(p.dbp + surge / 3 + r.normal(0, 5), 55, min(DBP_NORMAL_MAX, sbp - 25))
            pulse = _clip(p.hr_rest + r.normal(2, 4), *HR_NORMAL)
            out.readings.append(("bp", b.ms(t), {"systolic_bp": int(sbp), "diastolic_bp": int(dbp),
                                                 "heart_rate": int(pulse)}))
    for s, _ in crisis:  # AHA/ACC 2017: >= 180/120; re-measured after a few minutes' rest
        for dt in (0.0, float(r.uniform(3, 6))):
            out.readings.append(("bp", b.ms(s + dt), {
                "systolic_bp": int(r.integers(182, 198)), "diastolic_bp": int(r.integers(108, 124)),
                "heart_rate": int(r.integers(84, 100))}))
    # Glucose: diabetics before breakfast and after some meals; others now and then.
    diabetic = "diabetes" in p.conditions
    times: list[tuple[float, float]] = []
    if diabetic:
        if r.random() < 0.9:
            times.append((wake + 10, p.glucose_fasting + r.normal(0, 12)))
        for meal, prob in ((b.lunch, 0.5), (b.dinner, 0.4)):
            if r.random() < prob:
                times.append((meal + 100, p.glucose_fasting + 45 + r.normal(0, 20)))
        if r.random() < 0.2:
            times.append((b.sched.bed_min - 20, p.glucose_fasting + 15 + r.normal(0, 15)))
    elif b.day.weekday() == 6 and r.random() < 0.5:
        times.append((wake + 10, 94 + r.normal(0, 7)))
    for t, value in times:
        if not b.blocked(t) and not near(t, hypo + hyper):
            out.readings.append(("glu", b.ms(t), {"glucose": int(_clip(value, *GLUCOSE_NORMAL))}))
    for s, _ in hypo:  # ADA 2024: < 54 mg/dL level 2; re-check 15 min after 15 g carbohydrate
        out.readings.append(("glu", b.ms(s), {"glucose": int(r.integers(42, 52))}))
        out.readings.append(("glu", b.ms(s + 15), {"glucose": int(r.integers(66, 82))}))
    for s, e in hyper:  # ADA: > 300 mg/dL, checked again a few hours later
        out.readings.append(("glu", b.ms(s), {"glucose": int(r.integers(305, 340))}))
        out.readings.append(("glu", b.ms(max(s + 60, e - 30)), {"glucose": int(r.integers(318, 365))}))
    # Scale: most mornings after the toilet; daily when a weight gain is being watched.
    daily = p.profile == "heart_failure" or (bool(weight_days) and any(
        s - 1440 <= 720 <= e + 4 * 1440 for s, e in weight_days))
    t = wake + 13
    if (daily or r.random() < 0.85) and not b.blocked(t):
        out.readings.append(("scale", b.ms(t), {"weight": round(_weight(b), 1)}))


def _wear_battery(b: DayBuilder, minute: float) -> int:
    """Band battery: charged on charge evenings (~20:30), ~0.5 %/hour between charges."""
    k = (b.day.toordinal() + b.p.phase) % b.p.wear_charge_days
    hours = k * 24 + minute / 60 - 20.5
    if hours < 0:
        hours += b.p.wear_charge_days * 24
    return int(_clip(round(100 - 0.5 * hours), 20, 100))


def status(b: DayBuilder) -> None:
    """Device status: the band hourly with battery, other devices once a day."""
    out = b.out
    low = _windows(b, K.LOW_BATTERY)
    for hour in range(1, 25):
        t = hour * 60 - 1
        battery = _wear_battery(b, t)
        for s, e in low:
            if s <= t < e:  # a band left uncharged: below 15 % and falling (alert < 15 %)
                battery = round(14 - 8 * (t - s) / max(1.0, e - s))
        if b.worn[min(t, 1439)] or any(s <= t < e for s, e in low):
            out.status.append(("wear", b.ms(t) + 30_000, {"battery": battery, "online": True}))
    per_device = zlib.crc32(b.p.key.encode()) % 20
    for key in ("bp", "glu", "scale"):
        out.status.append((key, b.ms(3 * 60 + per_device), {"battery": 75 + per_device,
                                                            "online": True}))
    for key in ("spk", "hub", "bed"):
        out.status.append((key, b.ms(3 * 60 + 1), {"online": True}))
    r = b.r
    lq = int(r.integers(80, 150))
    batteries = zigbee_battery(b)
    # zigbee end devices report in every few hours even when nothing happens (heartbeat).
    for key, level in batteries.items():
        offset = zlib.crc32(key.encode()) % 60
        for hour in range(0, 24, HEARTBEAT_H):
            out.z2m.append((key, b.ms(hour * 60 + offset + 0.25), {
                "battery": level, "voltage": 2800 + 4 * level, "linkquality": lq}))
    battery = batteries["pir-living"]
    base = 22.0 + 1.5 * math.sin(2 * math.pi * b.day.toordinal() / 365)
    for hour in range(24):
        temp = base + 1.2 * math.sin((hour - 9) / 24 * 2 * math.pi) + r.normal(0, 0.2)
        state: dict[str, Any] = {"temperature": round(temp, 1),
                                 "humidity": round(min(70.0, max(25.0, r.normal(46, 4))), 1),
                                 "battery": battery, "linkquality": lq}
        out.z2m.append(("pir-living", b.ms(hour * 60 + 30), state))
