"""The report routes (api/reports): roles, formats, errors and audit, and the stored reports.

The data are the known region of tests/reports (``build_known_region``); the figures
themselves are pinned by tests/reports.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.principal import Principal
from api.security.tokens import issue_token
from reports.jobs import generate_monthly
from tests.api.conftest import SECRET
from tests.factories import make_user
from tests.reports.conftest import KnownRegion, build_known_region


@pytest.fixture
def known(db: psycopg.Connection) -> KnownRegion:
    return build_known_region(db)


def headers(conn: psycopg.Connection, user_id: int) -> dict[str, str]:
    row = conn.execute(
        "SELECT username, role, region_id FROM users WHERE id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    return {
        "Authorization": f"Bearer {issue_token(Principal(user_id, row[0], row[1], row[2]), SECRET, 30)}"
    }


def test_region_report_formats_and_audit(
    client: TestClient, db: psycopg.Connection, known: KnownRegion
) -> None:
    staff = headers(db, known.staff_id)
    url = f"/v1/reports/regions/{known.region_id}?period=2026-09"
    response = client.get(url, headers=staff)
    assert response.status_code == 200, response.text
    assert response.json()["enrollees"]["active"] == 3
    assert response.json()["adherence"]["bp"]["days"] == 40
    as_csv = client.get(url, headers={**staff, "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and rows[-1]["enrollee_id"] == "TOTAL"
    as_pdf = client.get(url, headers={**staff, "Accept": "application/pdf"})
    assert as_pdf.status_code == 200 and as_pdf.content.startswith(b"%PDF")
    audited = db.execute(
        "SELECT count(*) FROM access_audit WHERE user_id = %s AND action = 'read_report'",
        (known.staff_id,),
    ).fetchone()
    assert audited is not None and audited[0] == 3


def test_region_report_scoping_and_errors(
    client: TestClient, db: psycopg.Connection, known: KnownRegion
) -> None:
    url = f"/v1/reports/regions/{known.region_id}?period="
    other_staff = make_user(db, "center_staff", known.other_region_id)
    admin = make_user(db, "admin")
    assert client.get(url + "2026-09").status_code == 401
    assert client.get(url + "2026-09", headers=headers(db, known.care_worker_id)).status_code == 403
    assert client.get(url + "2026-09", headers=headers(db, other_staff)).status_code == 403
    assert client.get(url + "2026-09", headers=headers(db, admin)).status_code == 200
    bad = client.get(url + "2026-13", headers=headers(db, known.staff_id))
    assert bad.status_code == 422 and "names no month" in bad.json()["detail"]
    missing_param = client.get(f"/v1/reports/regions/{known.region_id}", headers=headers(db, admin))
    assert missing_param.status_code == 422
    unknown = client.get("/v1/reports/regions/99999?period=2026-09", headers=headers(db, admin))
    assert unknown.status_code == 404 and "detail" in unknown.json()
    # Out of range or not plain digits: 422 before any query (issue 12).
    for path in ("/v1/reports/regions/99999999999?period=2026-09", "/v1/reports/regions/1.0?period=2026-09",
                 "/v1/reports/enrollees/0?period=2026-09", "/v1/reports/stored/99999999999999999999"):
        assert client.get(path, headers=headers(db, admin)).status_code == 422, path
    for period in ("9999-12", "9999-W52", "0001-01", "٢٠٢٦-٠٩"):
        refused = client.get(url + period, headers=headers(db, known.staff_id))
        assert refused.status_code == 422, (period, refused.text)


def test_region_pdf_with_a_byte_order_mark_in_a_name(
    client: TestClient, db: psycopg.Connection, known: KnownRegion
) -> None:
    """U+FEFF in an enrollee's name made matplotlib raise IndexError: a 500 (issue 12)."""
    db.execute("UPDATE enrollees SET name = %s WHERE id = %s", ("김영희\ufeff", known.ids["A"]))
    url = f"/v1/reports/regions/{known.region_id}?period=2026-09"
    pdf = client.get(url, headers={**headers(db, known.staff_id), "Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_enrollee_summary_route(
    client: TestClient, db: psycopg.Connection, known: KnownRegion
) -> None:
    url = f"/v1/reports/enrollees/{known.ids['A']}?period=2026-09"
    own = client.get(url, headers=headers(db, known.care_worker_id))
    assert own.status_code == 200, own.text
    assert own.json()["vitals"]["systolic_bp"]["readings"] == 11
    assert client.get(url, headers=headers(db, known.other_care_worker_id)).status_code == 404
    assert client.get(url, headers=headers(db, known.staff_id)).status_code == 200
    pdf = client.get(
        url, headers={**headers(db, known.care_worker_id), "Accept": "application/pdf"}
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        client.get(
            url.replace("2026-09", "2026-W99"), headers=headers(db, known.staff_id)
        ).status_code
        == 422
    )
    audited = db.execute(
        "SELECT count(*) FROM access_audit WHERE enrollee_id = %s"
        " AND action = 'read_enrollee_summary'",
        (known.ids["A"],),
    ).fetchone()
    assert audited is not None and audited[0] == 3


def test_stored_reports_routes(
    client: TestClient, db_url: str, db: psycopg.Connection, known: KnownRegion
) -> None:
    generate_monthly(db_url, datetime(2026, 10, 1, 1, 30, tzinfo=ZoneInfo("Asia/Seoul")))
    staff = headers(db, known.staff_id)
    listing = client.get(f"/v1/reports/regions/{known.region_id}/stored", headers=staff)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert [i["period"] for i in items] == ["2026-09"]
    stored = client.get(items[0]["href"], headers=staff)
    assert stored.status_code == 200 and stored.json()["adherence"]["bp"]["days"] == 40
    pdf = client.get(items[0]["href"], headers={**staff, "Accept": "application/pdf"})
    assert pdf.content.startswith(b"%PDF")
    # A CSV stored before formula cells were neutralised is served neutralised (issue 12).
    db.execute("UPDATE stored_reports SET csv = %s, report = jsonb_set(report,"
               " '{enrollees_detail,0,name}', '\"=HYPERLINK(1)\"') WHERE id = %s",
               ("enrollee_id,name\r\n1,=HYPERLINK(1)\r\n", items[0]["id"]))
    as_csv = client.get(items[0]["href"], headers={**staff, "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0]["name"] == "'=HYPERLINK(1)" and rows[-1]["enrollee_id"] == "TOTAL"
    assert client.get(f"/v1/reports/regions/{known.region_id}/stored",
                      headers=headers(db, known.care_worker_id)).status_code == 403
    assert client.get("/v1/reports/regions/99999/stored",
                      headers=headers(db, make_user(db, "admin"))).status_code == 404
    assert client.get("/v1/reports/stored/99999", headers=staff).status_code == 404
    audited = db.execute(
        "SELECT count(*) FROM access_audit WHERE user_id = %s AND action = 'read_report'"
        " AND detail ? 'stored_report'", (known.staff_id,),
    ).fetchone()
    assert audited is not None and audited[0] == 3
    other = db.execute(
        "SELECT id FROM stored_reports WHERE region_id = %s", (known.other_region_id,)
    ).fetchone()
    assert other is not None
    assert client.get(f"/v1/reports/stored/{other[0]}", headers=staff).status_code == 404
