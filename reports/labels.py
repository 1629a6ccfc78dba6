"""Korean labels of report figures, alert kinds and severities (for the PDF and CSV)."""

from __future__ import annotations

from typing import Final

KIND_KO: Final[dict[str, str]] = {
    "sos": "긴급호출",
    "fall": "낙상",
    "hypertensive_crisis": "고혈압 위기",
    "hypoglycemia": "저혈당",
    "hyperglycemia": "고혈당",
    "low_spo2": "산소포화도 저하",
    "bradycardia": "서맥",
    "tachycardia": "빈맥",
    "fever": "발열",
    "rapid_weight_gain": "급격한 체중 증가",
    "inactivity": "무활동",
    "night_wandering": "야간 배회",
    "routine_change": "생활패턴 변화",
    "declining_activity": "활동량 감소",
    "missed_checkins": "안부 무응답",
    "device_offline": "기기 연결 끊김",
    "low_battery": "배터리 부족",
    "no_data": "데이터 없음",
}

SEVERITY_KO: Final[dict[str, str]] = {
    "critical": "위급",
    "high": "높음",
    "medium": "중간",
    "low": "낮음",
    "all": "전체",
}

METRIC_KO: Final[dict[str, str]] = {
    "systolic_bp": "수축기 혈압",
    "diastolic_bp": "이완기 혈압",
    "glucose": "혈당",
    "heart_rate": "심박수",
    "weight": "체중",
    "spo2": "산소포화도",
    "body_temp": "체온",
    "respiratory_rate": "호흡수",
}


def kind_ko(kind: str) -> str:
    return KIND_KO.get(kind, kind)


OUTCOME_KO: Final[dict[str, str]] = {
    "false_alarm": "오경보",
    "visited": "방문",
    "called": "전화 확인",
    "resolved": "해결",
    "hospital": "병원 이송",
    "emergency": "응급 출동",
}


def outcome_ko(outcome: str | None) -> str:
    return "—" if not outcome else OUTCOME_KO.get(outcome, outcome)
