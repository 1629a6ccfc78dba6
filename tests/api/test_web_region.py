"""The region page offers the region's monthly report as PDF and CSV files (centre staff of the
region and admin), through the reports' API service: scoped, audited, HTML errors."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import World


def _period(client: TestClient, world: World) -> str:
    page = client.get(f"/app/regions/{world.region_a}")
    assert page.status_code == 200
    marker = f"/app/regions/{world.region_a}/report-"
    assert marker in page.text
    return page.text.split(marker, 1)[1].split(".pdf", 1)[0]


def test_staff_download_the_regions_month(client: TestClient, world: World,
                                          db: psycopg.Connection) -> None:
    client.cookies.set("dolbom_token", world.token("staff_a"))
    period = _period(client, world)
    assert len(period) == 7 and period[4] == "-"  # YYYY-MM, this month in the region's zone
    pdf = client.get(f"/app/regions/{world.region_a}/report-{period}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment; filename=")
    csv = client.get(f"/app/regions/{world.region_a}/report-{period}.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    reads = db.execute(
        "SELECT count(*) FROM access_audit WHERE action = 'read_report' AND resource LIKE %s",
        (f"/app/regions/{world.region_a}/report-%",)).fetchone()
    assert reads is not None and reads[0] == 2


def test_others_get_an_html_refusal(client: TestClient, world: World) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    refused = client.get(f"/app/regions/{world.region_a}/report-2026-11.pdf")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    client.cookies.set("dolbom_token", world.token("staff_b"))
    other = client.get(f"/app/regions/{world.region_a}/report-2026-11.pdf")
    assert other.status_code in (403, 404) and "text/html" in other.headers["content-type"]
    client.cookies.set("dolbom_token", world.token("staff_a"))
    bad = client.get(f"/app/regions/{world.region_a}/report-2026-13.pdf")
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    wrong_format = client.get(f"/app/regions/{world.region_a}/report-2026-11.exe")
    assert wrong_format.status_code in (404, 422) and "text/html" in wrong_format.headers["content-type"]
