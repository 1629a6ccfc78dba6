"""Korean and English text of the web app (one table; ``?lang=`` or the lang cookie picks)."""

from __future__ import annotations

from typing import Final

from dolbom.alerts import KIND_LABELS

LANGS: Final = ("ko", "en")
LANG_COOKIE: Final = "dolbom_lang"

TEXT: Final[dict[str, tuple[str, str]]] = {
    # key: (Korean, English)
    "app_name": ("돌봄", "Dolbom"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "username": ("아이디", "Username"),
    "password": ("비밀번호", "Password"),
    "login_failed": ("아이디 또는 비밀번호가 올바르지 않습니다", "Incorrect username or password"),
    "login_locked": ("로그인 실패가 너무 많습니다. 잠시 후 다시 시도하세요",
                     "Too many failed logins; try again later"),
    "inbox": ("알림함", "Alert inbox"),
    "no_alerts": ("처리할 알림이 없습니다", "No alerts need attention"),
    "new_critical": ("새 긴급 알림", "New critical alert"),
    "live": ("실시간", "Live"),
    "offline": ("연결 끊김", "Disconnected"),
    "sound_on": ("소리 켜기", "Sound on"),
    "sound_off": ("소리 끄기", "Sound off"),
    "acknowledge": ("확인", "Acknowledge"),
    "resolve": ("종료", "Resolve"),
    "snooze": ("미루기 1시간", "Snooze 1 h"),
    "note": ("메모", "Note"),
    "outcome": ("결과", "Outcome"),
    "save": ("저장", "Save"),
    "cancel": ("취소", "Cancel"),
    "opened": ("발생", "Opened"),
    "updated": ("갱신", "Updated"),
    "status": ("상태", "Status"),
    "severity": ("심각도", "Severity"),
    "kind": ("종류", "Kind"),
    "summary": ("내용", "Summary"),
    "enrollee": ("대상자", "Enrollee"),
    "enrollees": ("대상자", "Enrollees"),
    "region": ("지역", "Region"),
    "alert_history": ("알림 이력", "Alert history"),
    "vitals": ("생체 신호", "Vitals"),
    "activity": ("하루 활동 (시간 × 날짜)", "Daily activity (hour × day)"),
    "motion": ("움직임 감지", "Motion events"),
    "steps": ("걸음 수", "Steps"),
    "devices": ("기기", "Devices"),
    "battery": ("배터리", "Battery"),
    "online": ("연결", "Online"),
    "last_seen": ("마지막 수신", "Last seen"),
    "days": ("일", "days"),
    "no_data": ("자료 없음", "No data"),
    "baseline": ("평소 범위", "Usual range"),
    "threshold": ("기준값", "Threshold"),
    "average": ("평균", "Average"),
    "born": ("출생", "Born"),
    "conditions": ("질환", "Conditions"),
    "care_worker": ("담당 생활지원사", "Care worker"),
    "open_alerts": ("미처리 알림", "Open alerts"),
    "critical": ("긴급", "Critical"),
    "devices_offline": ("연결 끊긴 기기", "Devices offline"),
    "forbidden": ("이 페이지를 볼 권한이 없습니다", "You may not see this page"),
    "not_found": ("찾을 수 없습니다", "Not found"),
    "csrf_refused": ("이 양식은 만료되었거나 다른 사이트에서 보내졌습니다. "
                     "페이지를 새로 고친 뒤 다시 시도하세요",
                     "This form has expired or was sent from another site. "
                     "Reload the page and try again"),
    "reload_login": ("로그인 페이지로", "Go to the login page"),
    "yes": ("예", "yes"),
    "no": ("아니오", "no"),
    "sev_critical": ("긴급", "critical"),
    "sev_high": ("높음", "high"),
    "sev_medium": ("보통", "medium"),
    "sev_low": ("낮음", "low"),
    "st_open": ("미확인", "open"),
    "st_acknowledged": ("확인됨", "acknowledged"),
    "st_resolved": ("종료", "resolved"),
    "out_called": ("전화함", "Called"),
    "out_visited": ("방문함", "Visited"),
    "out_sent_to_hospital": ("병원 이송", "Sent to hospital"),
    "out_emergency_services": ("119 신고", "Emergency services"),
    "out_false_alarm": ("오경보", "False alarm"),
    "out_device_issue": ("기기 문제", "Device issue"),
    "out_no_action_needed": ("조치 불필요", "No action needed"),
    "out_other": ("기타", "Other"),
    "m_heart_rate": ("심박수", "Heart rate"),
    "m_spo2": ("산소포화도", "SpO2"),
    "m_respiratory_rate": ("호흡수", "Respiratory rate"),
    "m_systolic_bp": ("수축기 혈압", "Systolic BP"),
    "m_diastolic_bp": ("이완기 혈압", "Diastolic BP"),
    "m_glucose": ("혈당", "Glucose"),
    "m_weight": ("체중", "Weight"),
    "m_body_temp": ("체온", "Body temperature"),
    "m_steps": ("걸음 수", "Steps"),
    "m_sleep_minutes": ("수면 시간(분)", "Sleep minutes"),
    "m_room_temp": ("실내 온도", "Room temperature"),
    "m_humidity": ("습도", "Humidity"),
}
# Alert kinds from the one catalogue (dolbom.alerts.KIND_LABELS).
TEXT.update({f"kind_{kind.value}": pair for kind, pair in KIND_LABELS.items()})


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return "ko"


def translator(lang: str) -> dict[str, str]:
    index = LANGS.index(lang) if lang in LANGS else 0
    return {key: pair[index] for key, pair in TEXT.items()}
