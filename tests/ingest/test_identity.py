"""The publisher-identity check (pure): the broker's stamp against the topic's device."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from dolbom.config import Settings
from dolbom.wire import QuarantineReason, TopicKind
from ingest.checks import (
    IdentityPolicy,
    Refused,
    check_publisher,
    identity_policy,
    publishers_of,
)
from ingest.decode import decode, screen_publisher
from ingest.registry import DeviceInfo

NOW = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
CHECK = IdentityPolicy("check", "dolbom-username", frozenset({"dolbom-sim"}))
REQUIRE = IdentityPolicy("require", "dolbom-username", frozenset({"dolbom-sim"}))


def _device(id_: int, device_id: str, enrollee: int, kind: str,
            removed_at: datetime | None = None) -> DeviceInfo:
    return DeviceInfo(id_, device_id, enrollee, kind, None, 1, "Asia/Seoul", removed_at)


REGISTRY = {d.device_id: d for d in (
    _device(1, "band-2", 10, "wearable"),
    _device(2, "band-7", 11, "wearable"),
    _device(3, "pir-2", 10, "motion_sensor"),
    _device(4, "hub-10", 10, "hub"),
    _device(5, "hub-11", 11, "hub"),
    _device(6, "hub-old", 10, "hub", removed_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
    _device(7, "door-11", 11, "door_sensor"),
)}
lookup = REGISTRY.get


def refused(kind: TopicKind, device_id: str, publishers: tuple[str, ...],
            policy: IdentityPolicy = CHECK, **kwargs: bool) -> Refused:
    with pytest.raises(Refused) as caught:
        check_publisher(kind, device_id, publishers, policy, lookup, **kwargs)
    return caught.value


@pytest.mark.parametrize("kind", [TopicKind.READING, TopicKind.EVENT, TopicKind.STATUS])
def test_a_device_publishes_on_its_own_dolbom_topic(kind: TopicKind) -> None:
    check_publisher(kind, "band-2", ("band-2",), REQUIRE, lookup)
    check_publisher(kind, "band-2", ("dolbom-sim",), REQUIRE, lookup)  # trusted account


def test_another_device_on_a_dolbom_topic_is_a_wrong_publisher() -> None:
    error = refused(TopicKind.READING, "band-2", ("band-7",))
    assert error.code is QuarantineReason.WRONG_PUBLISHER
    assert error.reason == "published by device 'band-7', not by 'band-2' whose topic this is"
    # a hub may not publish on a dolbom/v1 topic of its own enrollee's band either
    error = refused(TopicKind.EVENT, "band-2", ("hub-10",))
    assert error.reason == "published by hub 'hub-10', not by 'band-2' whose topic this is"
    # a username that is no provisioned device
    error = refused(TopicKind.STATUS, "band-2", ("dolbom-ingest",))
    assert error.reason == ("published by client 'dolbom-ingest', not by 'band-2' whose topic "
                            "this is")


def test_every_stamp_must_match() -> None:
    # e.g. a client's own property that a broker without the plugin passed on, plus the stamp
    error = refused(TopicKind.READING, "band-2", ("band-2", "band-7"))
    assert error.code is QuarantineReason.WRONG_PUBLISHER and "'band-7'" in error.reason
    check_publisher(TopicKind.READING, "band-2", ("band-2", "dolbom-sim"), CHECK, lookup)


@pytest.mark.parametrize("kind", [TopicKind.Z2M_STATE, TopicKind.Z2M_AVAILABILITY])
def test_zigbee_topics_take_the_sensor_its_enrollees_hub_or_a_trusted_account(
        kind: TopicKind) -> None:
    for publisher in ("pir-2", "hub-10", "dolbom-sim"):
        check_publisher(kind, "pir-2", (publisher,), REQUIRE, lookup)
    check_publisher(kind, "door-11", ("hub-11",), REQUIRE, lookup)


def test_zigbee_topic_refuses_another_enrollees_hub_a_removed_hub_and_non_hubs() -> None:
    error = refused(TopicKind.Z2M_STATE, "pir-2", ("hub-11",))
    assert error.code is QuarantineReason.WRONG_PUBLISHER
    assert error.reason == ("published by hub 'hub-11' of another enrollee, not by 'pir-2' "
                            "whose topic this is nor by a hub of its enrollee")
    error = refused(TopicKind.Z2M_AVAILABILITY, "pir-2", ("hub-old",))
    assert error.reason.startswith("published by hub 'hub-old', removed at 2026-01-02 03:04")
    error = refused(TopicKind.Z2M_STATE, "pir-2", ("band-2",))  # same enrollee, not a hub
    assert error.reason == ("published by device 'band-2', not by 'pir-2' whose topic this is "
                            "nor by a hub of its enrollee")
    error = refused(TopicKind.Z2M_STATE, "pir-2", ("someone",))
    assert error.reason.startswith("published by client 'someone', not by 'pir-2'")


def test_zigbee_topic_of_an_unknown_sensor_fails_closed() -> None:
    error = refused(TopicKind.Z2M_STATE, "0x00158d0001a2b3c4", ("hub-10",))
    assert error.code is QuarantineReason.UNKNOWN_DEVICE
    assert "'0x00158d0001a2b3c4' is not provisioned" in error.reason
    assert "hub 'hub-10'" in error.reason


def test_no_stamp_passes_in_check_mode_and_is_unauthenticated_in_require_mode() -> None:
    check_publisher(TopicKind.READING, "band-2", (), CHECK, lookup)
    error = refused(TopicKind.READING, "band-2", (), REQUIRE)
    assert error.code is QuarantineReason.UNAUTHENTICATED
    assert "'dolbom-username'" in error.reason and "dolbom_identity plugin" in error.reason
    check_publisher(TopicKind.STATUS, "band-2", (), REQUIRE, lookup, unstamped_ok=True)


def test_policy_from_settings_and_stamps_from_user_properties() -> None:
    assert identity_policy("off", "dolbom-username", ["dolbom-sim"]) is None
    assert identity_policy("require", "p", ["a", "b"]) == IdentityPolicy(
        "require", "p", frozenset({"a", "b"}))
    with pytest.raises(ValueError, match="off, check or require"):
        identity_policy("strict", "p", [])
    assert publishers_of(None, "dolbom-username") == ()
    assert publishers_of([("a", "1"), ("dolbom-username", "band-2"), ("b", "2")],
                         "dolbom-username") == ("band-2",)
    assert publishers_of([("Dolbom-Username", "x")], "dolbom-username") == ()


def _reading(device_id: str) -> tuple[str, bytes]:
    return (f"dolbom/v1/{device_id}/reading",
            orjson.dumps({"ts": NOW_MS, "values": {"heart_rate": 70}}))


def test_screen_quarantines_the_whole_message_with_topic_and_payload() -> None:
    topic, payload = _reading("band-2")
    item = decode(topic, payload, NOW, NOW)
    assert item.readings
    assert screen_publisher(item, ("band-2",), REQUIRE, lookup) is item
    screened = screen_publisher(item, ("band-7",), REQUIRE, lookup)
    assert screened.readings == () and screened.events == () and screened.status is None
    # not the topic device's message: the writer must neither call it unknown nor "seen"
    assert screened.device_id is None
    [reject] = screened.rejects
    assert (reject.topic, reject.device_id, reject.payload) == (topic, "band-2", payload)
    assert reject.reason_code is QuarantineReason.WRONG_PUBLISHER
    assert reject.reason == "published by device 'band-7', not by 'band-2' whose topic this is"


def test_screen_replaces_other_rejects_and_leaves_bad_topics_alone() -> None:
    item = decode("dolbom/v1/band-2/reading", b"not json", NOW, NOW)
    [reject] = screen_publisher(item, ("band-7",), CHECK, lookup).rejects
    assert reject.reason_code is QuarantineReason.WRONG_PUBLISHER
    bad = decode("dolbom/v2/band-2/reading", b"{}", NOW, NOW)
    assert screen_publisher(bad, (), REQUIRE, lookup) is bad  # quarantined as bad_topic


def test_screen_accepts_an_unstamped_last_will_only_in_its_shape() -> None:
    will = decode("dolbom/v1/band-2/status", b'{"online": false}', NOW, NOW)
    assert screen_publisher(will, (), REQUIRE, lookup) is will
    for payload in (b'{"online": true}', b'{"online": false, "battery": 90}', b'{"battery": 5}'):
        item = decode("dolbom/v1/band-2/status", payload, NOW, NOW)
        [reject] = screen_publisher(item, (), REQUIRE, lookup).rejects
        assert reject.reason_code is QuarantineReason.UNAUTHENTICATED, payload
    topic, payload = _reading("band-2")
    [reject] = screen_publisher(decode(topic, payload, NOW, NOW), (), REQUIRE, lookup).rejects
    assert reject.reason_code is QuarantineReason.UNAUTHENTICATED
    # a will stamped (forged) by the client is checked like any stamp
    [reject] = screen_publisher(will, ("band-7",), REQUIRE, lookup).rejects
    assert reject.reason_code is QuarantineReason.WRONG_PUBLISHER


def test_screen_never_raises() -> None:
    def broken(device_id: str) -> DeviceInfo | None:
        raise RuntimeError("registry bug")

    item = decode("zigbee2mqtt/pir-2", b'{"occupancy": true}', NOW, NOW)
    [reject] = screen_publisher(item, ("hub-10",), REQUIRE, broken).rejects
    assert reject.reason_code is QuarantineReason.UNAUTHENTICATED


def test_production_files_load_the_plugin_and_require_the_stamp() -> None:
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    conf = dict(line.split(None, 1) for line in
                (deploy / "mosquitto" / "mosquitto.conf").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    assert conf["plugin"] == "/usr/lib/mosquitto/dolbom_identity.so"
    assert conf["plugin_opt_identity_property"] == Settings.model_fields[
        "ingest_identity_property"].default
    assert "/usr/lib/mosquitto/dolbom_identity.so" in (
        deploy / "mosquitto" / "Dockerfile").read_text()
    compose = (deploy / "docker-compose.yml").read_text()
    ingest = compose[compose.index("\n  ingest:\n"):compose.index("\n  analytics:\n")]
    assert "DOLBOM_INGEST_DEVICE_IDENTITY: require" in ingest
    assert "build: { context: ./mosquitto }" in compose
    assert "Environment=DOLBOM_INGEST_DEVICE_IDENTITY=require" in (
        deploy / "systemd" / "dolbom-ingest.service").read_text()
