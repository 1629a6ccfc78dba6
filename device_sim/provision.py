"""Write a simulated population into the database: region, staff, enrollees and kits.

Idempotent: device ids are deterministic from the scenario and seed, and an enrollee whose
wearable is already provisioned is reused, so running the simulator twice adds nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from device_sim import queries
from device_sim.model import Population
from store.accounts import create_user
from store.db import transaction

log = logging.getLogger(__name__)

# Known passwords of the simulated staff (development and demos only; documented in
# docs/simulator.md). Real deployments create users with `dolbom user add`.
DEMO_PASSWORD = "dolbom-demo"
ENROLLEES_PER_CARE_WORKER = 60  # DESIGN: a care worker looks after 30-80 enrollees


def provision(
    db_url: str, population: Population, *, enrolled_at: datetime | None = None
) -> dict[str, int]:
    """Provision ``population``; returns enrollee key (``Person.key``) → enrollees.id."""
    mapping: dict[str, int] = {}
    created = 0
    with transaction(db_url) as conn:
        queries.lock(conn)
        tz = population.people[0].timezone if population.people else "Asia/Seoul"
        region = queries.region_id(conn, population.region, tz)
        carers = []
        for username in population.care_workers:
            uid = queries.user_id(conn, username)
            if uid is None:
                uid = create_user(conn, username, DEMO_PASSWORD, "care_worker", region,
                                  display_name=f"방문간호사 {username}")
            carers.append(uid)
        for username in population.staff:
            if queries.user_id(conn, username) is None:
                create_user(conn, username, DEMO_PASSWORD, "center_staff", region,
                            display_name=f"보건소 {username}")
        devices: list[tuple[str, int, str, str | None]] = []
        for person in population.people:
            enrollee = queries.enrollee_of_device(conn, person.devices[0].device_id)
            if enrollee is None:
                carer = carers[(person.index // ENROLLEES_PER_CARE_WORKER) % len(carers)] \
                    if carers else None
                enrollee = queries.insert_enrollee(
                    conn, region=region, name=person.name, birth_year=person.birth_year,
                    sex=person.sex, care_worker=carer, conditions=person.conditions,
                    timezone=person.timezone, enrolled_at=enrolled_at,
                )
                created += 1
            mapping[person.key] = enrollee
            for device in person.devices:
                devices.append((device.device_id, enrollee, device.kind.value,
                                device.room.value if device.room else None))
        queries.insert_devices(conn, devices)
    log.info("provisioned %d enrollees (%d new) in region %r", len(mapping), created,
             population.region)
    return mapping


def provision_load(db_url: str, prefix: str, count: int) -> int:
    """Provision ``count`` single-wearable enrollees for load tests; returns how many are new."""
    with transaction(db_url) as conn:
        queries.lock(conn)
        region = queries.region_id(conn, f"{prefix} load region", "Asia/Seoul")
        return queries.provision_load_devices(conn, region, prefix, count)
