"""The words of alert summaries in Korean and English, one catalogue (issue 14).

Every entry is ``(Korean, English)``; fields in braces are filled by the renderer with
numbers, times and other entries of this file, never with text taken from an alert's
evidence, so a Korean summary holds no English word and an English one no Hangul.

The device, room and metric words are the web app's (``api/web/i18n.py`` ``dev_*``,
``room_*``, ``m_*``; tests/dolbom/test_summaries.py checks they agree).
"""

from __future__ import annotations

from typing import Final

from dolbom.alerts import AlertKind

Pair = tuple[str, str]

DEVICE_LABELS: Final[dict[str, Pair]] = {
    "wearable": ("손목 밴드", "wrist band"),
    "bp_monitor": ("혈압계", "BP monitor"),
    "glucometer": ("혈당계", "glucometer"),
    "scale": ("체중계", "scale"),
    "motion_sensor": ("동작 감지기", "motion sensor"),
    "door_sensor": ("문 열림 감지기", "door sensor"),
    "bed_sensor": ("침대 센서", "bed sensor"),
    "ai_speaker": ("AI 스피커", "AI speaker"),
    "hub": ("허브", "hub"),
}
DEVICE_UNKNOWN: Final[Pair] = ("기기", "device")
# "other" is left out: "the AI speaker (other)" says nothing.
ROOM_LABELS: Final[dict[str, Pair]] = {
    "bedroom": ("침실", "bedroom"),
    "bathroom": ("화장실", "bathroom"),
    "kitchen": ("부엌", "kitchen"),
    "living": ("거실", "living room"),
    "entrance": ("현관", "entrance"),
}
METRIC_LABELS: Final[dict[str, Pair]] = {
    "heart_rate": ("심박수", "Heart rate"),
    "spo2": ("산소포화도", "SpO2"),
    "respiratory_rate": ("호흡수", "Respiratory rate"),
    "systolic_bp": ("수축기 혈압", "Systolic BP"),
    "diastolic_bp": ("이완기 혈압", "Diastolic BP"),
    "glucose": ("혈당", "Glucose"),
    "weight": ("체중", "Weight"),
    "body_temp": ("체온", "Body temperature"),
}
BP_LABEL: Final[Pair] = ("혈압", "BP")
AT_REST: Final[Pair] = ("안정 시 {metric}", "{metric} at rest")
# Units as a person reads them (the wire's unit where it is the same in both).
UNIT_LABELS: Final[dict[str, Pair]] = {
    "heart_rate": ("회/분", "beats/min"),
    "respiratory_rate": ("회/분", "breaths/min"),
}
# Decimals shown per metric (a weight of 64.2 kg, not 64; a pulse of 72, not 72.0).
DECIMALS: Final[dict[str, int]] = {"weight": 1, "body_temp": 1}

# The routine features of analytics' nightly model (analytics/detectors/features.py) and how
# each value reads: "clock" hours from local midnight, "hours" of duration, "minutes" shown
# as hours, or a count with its unit.
FEATURE_LABELS: Final[dict[str, Pair]] = {
    "sleep_minutes": ("지난밤 수면", "sleep last night"),
    "bed_time_h": ("잠자리에 든 시각", "bedtime"),
    "first_activity_h": ("아침 첫 움직임", "first movement"),
    "last_activity_h": ("저녁 마지막 움직임", "last movement"),
    "steps": ("걸음 수", "steps"),
    "active_minutes": ("활동 시간", "active minutes"),
    "night_toilet_visits": ("지난밤 화장실", "toilet visits last night"),
    "time_out_h": ("외출 시간", "time out of home"),
    "checkins_answered": ("응답한 안부 확인", "check-ins answered"),
    "mood": ("기분", "mood"),
}
FEATURE_FORMS: Final[dict[str, str]] = {
    "sleep_minutes": "minutes", "bed_time_h": "clock", "first_activity_h": "clock",
    "last_activity_h": "clock", "time_out_h": "hours",
}
FEATURE_UNITS: Final[dict[str, Pair]] = {
    "steps": ("걸음", ""),
    "active_minutes": ("분", " min"),
    "night_toilet_visits": ("회", ""),
    "checkins_answered": ("회", ""),
    "mood": ("/5", "/5"),
}
HOURS: Final[Pair] = ("{n}시간", "{n} h")
PER_DAY: Final[dict[str, Pair]] = {
    "steps": ("하루 {n}걸음", "{n} steps/day"),
    "active_minutes": ("하루 {n}분", "{n} active min/day"),
}

SENTENCES: Final[dict[str, Pair]] = {
    # where an event came from: "거실 AI 스피커" / "AI speaker (living room)"
    "device_in_room": ("{room} {device}", "{device} ({room})"),
    "sos": ("{device}에서 긴급 호출", "SOS from {device}"),
    "sos_bare": ("긴급 호출", "SOS"),
    "fall": ("{device}에서 낙상 감지", "Fall detected by {device}"),
    "fall_bare": ("낙상 감지", "Fall detected"),
    "event_at": ("{what} ({time})", "{what} at {time}"),
    # a reading past a line
    "reading": ("{metric} {value}", "{metric} {value}"),
    "reading_at": ("{metric} {value}, {time} 측정", "{metric} {value} at {time}"),
    "line": ("기준 {op} {line}", "line {op} {line}"),
    "rise_over_usual": ("평소 {usual}보다 {rise} 높음", "{rise} over usual {usual}"),
    "rise_line": ("기준: 평소보다 {line} 넘게 상승", "line: more than {line} over usual"),
    "usual": ("평소 {usual}", "usual {usual}"),
    "readings_past_line": ("{window}분 안에 {n}회 기준 넘음", "{n} readings past the line in {window} min"),
    "repeat_confirmed": ("{window}분 안에 재측정에서도 기준 넘음",
                         "confirmed on a repeat reading within {window} min"),
    "sustained": ("{window}분 넘게 지속", "sustained over {window} min"),
    # weight and blood pressure trends
    "weight_gain": ("체중 {latest}, 3일 새 {gain} 증가", "Weight {latest}, up {gain} in 3 days"),
    "weight_from": ("3일 전 최저 {reference}", "from {reference}"),
    "weight_line": ("기준 3일 {line} 초과", "line more than {line} in 3 days"),
    "bp_rising": ("수축기 혈압 주당 {slope} 상승", "Systolic BP rising {slope}/week"),
    "bp_recent": ("지난주 평균 {mean}", "last week's mean {mean}"),
    # home activity
    "inactivity": ("{since}부터 집 안 움직임 없음", "No movement at home since {since}"),
    "inactivity_bare": ("집 안 움직임 없음", "No movement at home"),
    "for_hours": ("{hours} 넘게", "for over {hours}"),
    "usual_gap": ("평소 가장 긴 공백 {hours}", "usual longest gap {hours}"),
    "no_usual_gap": ("평소 기록 부족: 일반 기준", "no usual pattern yet: default line"),
    "line_hours": ("기준 {hours}", "line {hours}"),
    "no_data": ("{since}부터 모든 기기 수신 없음", "No data from any device since {since}"),
    "no_data_bare": ("모든 기기 수신 없음", "No data from any device"),
    "unanswered_in_row": ("AI 스피커 안부 확인에 {n}회 연속 응답 없음",
                          "{n} daily check-ins in a row unanswered"),
    "no_answer_hours": ("{hours}째 응답한 안부 확인 없음", "No answered check-in for {hours}"),
    "checkin_line": ("기준 {n}회 연속 또는 {hours}", "line {n} in a row or {hours}"),
    "door_at_night": ("밤에 문 열림: {times}", "Door opened at night at {times}"),
    "more_times": ("외 {n}회", "and {n} more"),
    "more_devices": ("외 {n}대", "and {n} more"),
    "night_rate": ("평소 밤의 {pct}%에 열림", "usually on {pct}% of nights"),
    "night_no_history": ("기록이 아직 적음: 밤에 문이 열리면 알림",
                         "little history yet: any night opening alerts"),
    "feature": ("{label} {value} (평소 {usual})", "{label} {value} (usual {usual})"),
    "day_prefix": ("{day} 기준 {text}", "On {day}, {text}"),
    "routine_cold": ("평소 기록 부족: 일반 기준과 비교", "compared with population defaults"),
    "declining": ("최근 1주 {recent}", "Down to {recent} over the last week"),
    "trend": ("주당 {slope} 추세", "trend {slope} per week"),
    "on_day": ("{day} 기준", "on {day}"),
    # devices
    "device_last": ("{device} (마지막 수신 {time})", "{device} (last data {time})"),
    "device_said_offline": ("{device} (연결 끊김 알림)", "{device} (reported offline)"),
    "device_battery": ("{device} {pct}%", "{device} {pct}%"),
    "battery_levels": ("기기 배터리 {levels}", "Battery at {levels}"),
    "devices_n": ("기기 {n}대", "{n} devices"),
    # the fallback when evidence lacks what the kind needs
    "generic": ("{label} 알림", "{label} alert"),
}

# What to do, per kind; "repeat" for a reading not yet confirmed by another.
ACTIONS: Final[dict[AlertKind | str, Pair]] = {
    AlertKind.SOS: ("바로 전화하거나 방문하세요", "call or visit now"),
    AlertKind.FALL: ("바로 전화하거나 방문하세요", "call or visit now"),
    AlertKind.HYPERTENSIVE_CRISIS: ("바로 전화해 상태를 확인하세요", "call now to check on them"),
    # ADA 2024 "15-15 rule": 15 g of fast carbohydrate, re-check after 15 minutes.
    AlertKind.HYPOGLYCEMIA: ("바로 전화해 당분 15 g 섭취와 15분 뒤 재측정을 안내하세요",
                             "call now to advise 15 g of sugar and a re-check in 15 min"),
    AlertKind.HYPERGLYCEMIA: ("전화해 상태를 확인하세요", "call to check on them"),
    AlertKind.LOW_SPO2: ("바로 전화해 숨쉬기를 확인하세요", "call now and ask about breathing"),
    AlertKind.BRADYCARDIA: ("전화해 어지럼증을 확인하세요", "call and ask about dizziness"),
    AlertKind.TACHYCARDIA: ("전화해 두근거림·숨참을 확인하세요",
                            "call and ask about palpitations or breathlessness"),
    AlertKind.FEVER: ("전화해 상태를 확인하세요", "call to check on them"),
    # ESC 2021 heart failure self-care: a quick gain is fluid; the care team adjusts treatment.
    AlertKind.RAPID_WEIGHT_GAIN: ("전화해 부종·숨참을 확인하고 의료진에 알리세요",
                                  "call about swelling or breathlessness and tell the care team"),
    AlertKind.INACTIVITY: ("전화해 안부를 확인하세요", "call to check on them"),
    AlertKind.NIGHT_WANDERING: ("전화해 안부를 확인하세요", "call to check on them"),
    AlertKind.ROUTINE_CHANGE: ("다음 연락 때 여쭤보세요", "ask about it at the next contact"),
    AlertKind.DECLINING_ACTIVITY: ("다음 연락 때 여쭤보세요", "ask about it at the next contact"),
    AlertKind.MISSED_CHECKINS: ("전화해 안부를 확인하세요", "call to check on them"),
    AlertKind.DEVICE_OFFLINE: ("기기 연결을 확인하세요", "check the device's connection"),
    AlertKind.LOW_BATTERY: ("충전이나 배터리 교체를 안내하세요", "have it charged or the battery replaced"),
    AlertKind.NO_DATA: ("전화해 안부와 기기를 확인하세요", "call to check on them and the devices"),
    AlertKind.RISING_BLOOD_PRESSURE: ("의료진에 혈압 추세를 알리세요", "share the trend with the care team"),
    "repeat": ("다시 측정해 확인하세요", "repeat the measurement to confirm"),
    "level1_hypoglycemia": ("전화해 당분 15 g 섭취와 15분 뒤 재측정을 안내하세요",
                            "call to advise 15 g of sugar and a re-check in 15 min"),
    "unknown": ("내용을 확인하세요", "review the alert"),
}
UNKNOWN_KIND: Final[Pair] = ("알림", "Alert")
