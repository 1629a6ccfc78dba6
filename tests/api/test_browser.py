"""A care worker in a real browser (Debian chromium, headless, driven by Playwright).

Logs in, sees a critical alert arrive live, acknowledges and resolves it, opens the
enrollee page with its charts; screenshots go to tests/artifacts/ (gitignored). The audit
log must show each of those actions and reads.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert
from tests.factories import make_device

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# An inbox action is sent after its 5 s undo window (api/web/static/inbox.js), then shown.
UNDO_WAIT_MS = 10_000
SCREENS = Path(tempfile.gettempdir()) / "dolbom-browser"  # the CSP walk's screenshots, out of git
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Every CSP violation a page causes, recorded as it happens (an init script is not subject to
# the page's CSP); Chromium also logs each one as a console error ("Refused to ...").
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not found (apt-get install chromium)"),
]


def _seed_history(db: psycopg.Connection, world: World) -> None:
    """30 days of vitals and activity for enrollee a1, so the page has charts and a heat map."""
    eid = world.enrollees["a1"]
    wearable = world.devices["a1"][0]
    cuff, _ = make_device(db, eid, "bp_monitor", device_id="bp-a1")
    pir, _ = make_device(db, eid, "motion_sensor", device_id="pir-a1", room="kitchen")
    db.execute("UPDATE devices SET battery = 15, online = true, last_seen = now() WHERE id = %s", (wearable,))
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    names = ("heart_rate", "systolic_bp", "diastolic_bp", "steps")
    hr, sbp, dbp, steps = (METRIC_BY_NAME[m].code for m in names)
    with db.cursor().copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for hour in range(24 * 29):
            ts = now - timedelta(hours=hour)
            local = (ts.hour + 9) % 24
            copy.write_row((wearable, hr, ts, 68 + 8 * math.sin(hour / 5)))
            if 8 <= local <= 20:
                copy.write_row((wearable, steps, ts, 150 + 100 * math.sin(hour)))
            if local in (8, 20):
                copy.write_row((cuff, sbp, ts, 132 + 6 * math.sin(hour / 7)))
                copy.write_row((cuff, dbp, ts, 82 + 3 * math.sin(hour / 7)))
    with db.cursor().copy("COPY events (device, enrollee_id, type, ts) FROM STDIN") as copy:
        for hour in range(24 * 29):
            ts = now - timedelta(hours=hour)
            if 7 <= (ts.hour + 9) % 24 <= 22:
                for minute in (5, 25, 45):
                    copy.write_row((pir, eid, EVENT_CODES["motion"], ts + timedelta(minutes=minute)))


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield instance
        finally:
            instance.close()


def test_care_worker_morning(browser: object, live_server: LiveServer, world: World,
                             db: psycopg.Connection) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    ARTIFACTS.mkdir(exist_ok=True)
    _seed_history(db, world)
    eid = world.enrollees["a1"]
    open_alert(db, eid, kind="low_battery", severity="low", summary="Wrist band battery 15 %")
    page = browser.new_page(viewport={"width": 412, "height": 900}, locale="ko-KR")  # a phone
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(f"{live_server.url}/app/login")
    page.fill("input[name=username]", "cw_a1")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{live_server.url}/app")
    expect(page.locator("#live")).to_have_class("pill on")
    page.click("#lang-en")
    expect(page.locator("#live")).to_have_text("Live")

    alert_id = open_alert(db, eid, kind="fall", severity="critical",
                          summary="Fall detected by the wrist band").alert_id
    card = page.locator(f"#alert-{alert_id}")
    expect(card).to_be_visible()
    expect(page.locator("#banner")).to_contain_text("Fall")
    # Critical first: the new fall sits above the older low-battery alert.
    expect(page.locator("li.alert").first).to_have_id(f"alert-{alert_id}")
    page.screenshot(path=str(ARTIFACTS / "inbox_critical_live.png"), full_page=True)

    card.locator("button.ack").click()
    expect(card).to_have_class("alert sev-critical st-acknowledged", timeout=UNDO_WAIT_MS)
    card.locator("button.resolve-open").click()
    card.locator("textarea[name=note]").fill("Visited; bruised knee, no fracture signs")
    card.locator("select[name=outcome]").select_option("visited")
    page.screenshot(path=str(ARTIFACTS / "inbox_resolving.png"), full_page=True)
    card.locator("button.resolve-save").click()
    expect(card).to_have_count(0, timeout=UNDO_WAIT_MS)

    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{live_server.url}/app/enrollees/{eid}?days=30")
    expect(page.locator("figure.chart-box[data-metric=heart_rate] svg.chart")).to_be_visible()
    expect(page.locator("figure.chart-box[data-metric=systolic_bp] svg .threshold").first).to_be_attached()
    expect(page.locator("figure.chart-box[data-metric=heart_rate] svg .band")).to_be_attached()
    expect(page.locator("svg.heat").first).to_be_visible()
    expect(page.locator("table.devices")).to_contain_text("15%")
    expect(page.locator("table.history")).to_contain_text("Visited")
    page.screenshot(path=str(ARTIFACTS / "enrollee_30_days.png"), full_page=True)
    page.click("#period-90")
    expect(page.locator("#period-90")).to_have_class("on")
    page.click("#lang-ko")
    expect(page.locator("h2").first).to_have_text("생체 신호")
    page.screenshot(path=str(ARTIFACTS / "enrollee_90_days_ko.png"), full_page=True)

    trail = [row[0] for row in db.execute(
        "SELECT action FROM access_audit WHERE username = 'cw_a1' ORDER BY id").fetchall()]
    for action in ("view_inbox", "stream_alerts", "acknowledge_alert", "resolve_alert",
                   "read_enrollee", "view_enrollee_page"):
        assert action in trail, (action, trail)
    assert trail.index("acknowledge_alert") < trail.index("resolve_alert") < trail.index("view_enrollee_page")
    actions = db.execute("SELECT action, note, outcome FROM alert_actions "
                         "WHERE alert_id = %s AND user_id = %s ORDER BY id",
                         (alert_id, world.ids["cw_a1"])).fetchall()
    assert actions == [("acknowledge", None, None),
                       ("resolve", "Visited; bruised knee, no fracture signs", "visited")]
    assert all((ARTIFACTS / name).stat().st_size > 5000 for name in
               ("inbox_critical_live.png", "enrollee_30_days.png"))


class PageWatch:
    """Console errors, uncaught exceptions and CSP violations of one browser page."""

    def __init__(self, page: object) -> None:
        from playwright.sync_api import ConsoleMessage, Page

        assert isinstance(page, Page)
        self.page = page
        self.problems: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.problems.append(f"console: {message.text} ({message.location.get('url')})")

        page.add_init_script(WATCH_CSP)
        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))

    def assert_clean(self, where: str, *, page_status: int | None = None,
                     refused: str | None = None) -> None:
        """No violation and no error so far. ``page_status``: the page itself answers it;
        ``refused``: a URL the CSP is expected to refuse (reported once as a violation and
        once on the console)."""
        if page_status is not None:
            own = f"status of {page_status} (Not Found) ({self.page.url})"
            self.problems = [p for p in self.problems if not p.endswith(own)]
        violations = self.page.evaluate("window.__csp || []")
        if refused is not None:
            violations = [v for v in violations if f"blocked {refused} " not in v]
            self.problems = [p for p in self.problems if f"'{refused}'" not in p]
        assert not violations and not self.problems, (where, violations, self.problems)

    def screens(self, name: str) -> None:
        """Full-page screenshots at the desktop and phone sizes, back at desktop after."""
        SCREENS.mkdir(exist_ok=True)
        for size, viewport in VIEWPORTS.items():
            self.page.set_viewport_size(viewport)
            self.page.wait_for_timeout(150)  # layout settles
            self.page.screenshot(path=str(SCREENS / f"{name}_{size}.png"), full_page=True)
        self.page.set_viewport_size(VIEWPORTS["desktop"])


def test_every_page_works_under_the_csp(browser: object, live_server: LiveServer, world: World,
                                        db: psycopg.Connection) -> None:
    """Centre staff walk every page and the API docs: the CSP is sent and nothing breaks."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    _seed_history(db, world)
    eid = world.enrollees["a1"]
    open_alert(db, world.enrollees["a2"], kind="low_battery", severity="low",
               summary="Wrist band battery 15 %")
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = PageWatch(page)

    login = page.goto(f"{live_server.url}/app/login?lang=en")
    assert login is not None
    headers = login.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    watch.screens("login")
    watch.assert_clean("login")

    page.fill("input[name=username]", "staff_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")  # the form's CSRF token and the browser's Origin pass the check
    page.wait_for_url(f"{live_server.url}/app")
    expect(page.locator("#live")).to_have_class("pill on")  # EventSource allowed (connect-src)
    alert_id = open_alert(db, eid, kind="fall", severity="critical",
                          summary="Fall detected by the wrist band").alert_id
    expect(page.locator(f"#alert-{alert_id}")).to_be_visible()  # the live update arrived
    expect(page.locator("#banner")).to_contain_text("Fall")
    watch.screens("inbox")
    watch.assert_clean("inbox")
    page.locator(f"#alert-{alert_id} button.ack").click()  # fetch() allowed (connect-src)
    expect(page.locator(f"#alert-{alert_id}")).to_have_class("alert sev-critical st-acknowledged",
                                                            timeout=UNDO_WAIT_MS)
    watch.assert_clean("inbox, acknowledged")

    page.goto(f"{live_server.url}/app/enrollees/{eid}?days=30")
    expect(page.locator("figure.chart-box[data-metric=heart_rate] svg.chart")).to_be_visible()
    expect(page.locator("svg.heat").first).to_be_visible()
    battery = page.locator("table.devices svg.battery rect").first
    assert battery.bounding_box() is not None and battery.bounding_box()["width"] > 0  # type: ignore[index]
    watch.screens("enrollee")
    watch.assert_clean("enrollee")

    page.goto(f"{live_server.url}/app/region")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("table").first).to_contain_text("Kim a1")
    watch.screens("region")
    watch.assert_clean("region")

    page.goto(f"{live_server.url}/app/enrollees/{world.enrollees['b1']}")
    expect(page.locator("#message")).to_have_text("Not found")
    watch.assert_clean("not found page", page_status=404)

    docs = page.goto(f"{live_server.url}/docs")
    assert docs is not None and "script-src 'self'" in docs.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()  # Swagger UI ran
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dolbom API")
    page.locator(".opblock-summary-path", has_text="/v1/alerts").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    watch.screens("docs")
    # Swagger UI's own requests pass the CSP too: log in with the OAuth2 password flow, then
    # "Try it out" on GET /v1/alerts.
    page.click(".auth-wrapper .btn.authorize")
    page.fill("#oauth_username", "staff_a")
    page.fill("#oauth_password", PASSWORD)
    page.click(".auth-btn-wrapper .btn.modal-btn.authorize")
    expect(page.locator(".auth-btn-wrapper .btn.modal-btn", has_text="Logout")).to_be_visible()
    page.click(".auth-btn-wrapper .btn-done")
    operation = page.locator(".opblock.is-open").first
    operation.locator(".try-out__btn").click()
    operation.locator(".btn.execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_contain_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("Fall detected")
    watch.assert_clean("docs, try it out")

    page.goto(f"{live_server.url}/redoc")
    expect(page.locator("h1", has_text="Dolbom API")).to_be_visible()  # ReDoc ran
    expect(page.get_by_text("/v1/alerts/stream").first).to_be_attached()
    watch.screens("redoc")
    # The one thing refused on purpose: ReDoc's sidebar logo on its vendor's CDN (api/docs.py).
    watch.assert_clean("redoc", refused="https://cdn.redoc.ly/redoc/logo-mini.svg")

    page.goto(f"{live_server.url}/app")
    page.click("header form button")  # log out: a form post with its token
    page.wait_for_url(f"{live_server.url}/app/login")
    watch.assert_clean("logout")
    assert not [c for c in context.cookies() if c["name"] == "dolbom_token"]
    context.close()
