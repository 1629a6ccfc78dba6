"""Korean labels of report figures, alert kinds and severities (for the PDF and CSV)."""

from __future__ import annotations

from typing import Final

from dolbom.alerts import KIND_LABELS

# Alert kinds from the one catalogue (dolbom.alerts.KIND_LABELS).
KIND_KO: Final[dict[str, str]] = {kind.value: pair[0] for kind, pair in KIND_LABELS.items()}

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


# Contact channels (store.contacts.Channel) and the programme's groups (reports.compute.CONTACT_GROUPS).
CHANNEL_KO: Final[dict[str, str]] = {
    "phone": "전화",
    "visit": "방문",
    "message": "문자",
    "speaker": "AI 스피커",
    "video": "화상",
}
CONTACT_GROUP_KO: Final[dict[str, str]] = {
    "non_face_to_face": "비대면",
    "face_to_face": "대면",
}
