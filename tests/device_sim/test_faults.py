"""Bad input mode: each bad payload is refused by the validator for the reason intended."""

from __future__ import annotations

from collections import Counter

import pytest

from device_sim import faults, generate
from device_sim.model import Population
from dolbom.wire import QuarantineReason as Q
from tests.device_sim.conftest import window

decode_mod = pytest.importorskip("ingest.decode")


def test_each_fault_gets_its_intended_reason(demo: Population) -> None:
    start, end = window(1)
    provisioned = {d.device_id for p in demo.people for d in p.devices}
    seen: Counter[str] = Counter()
    for m in faults.with_faults(generate.messages(demo, start, end), rate=0.2, seed=3):
        decoded = decode_mod.decode(m.topic, m.payload, m.sent_at, m.sent_at)
        codes = {r.reason_code for r in decoded.rejects}
        seen[m.fault or "good"] += 1
        if m.expect_reason is None:
            assert not codes, (m.fault, m.topic, decoded.rejects)
        elif m.expect_reason is Q.UNKNOWN_DEVICE:
            # Well formed: the writer refuses it because nobody provisioned that device.
            assert not codes and decoded.device_id not in provisioned
        else:
            assert codes == {m.expect_reason}, (m.fault, m.payload[:120], decoded.rejects)
    assert set(faults.FAULTS) | set(faults.ACCEPTED_FAULTS) <= set(seen)
    assert 0.1 < sum(v for k, v in seen.items() if k != "good") / seen["good"] < 0.3


def test_good_data_is_kept_whole(demo: Population) -> None:
    """Faults are added, never substituted: the good messages are all still there."""
    start, end = window(1)
    good = [m for m in generate.messages(demo, start, end)]
    mixed = list(faults.with_faults(iter(good), rate=0.1, seed=9))
    kept = [m for m in mixed if m.fault is None]
    out_of_order = [m for m in mixed if m.fault == "out_of_order"]
    assert len(kept) + len(out_of_order) == len(good)
    assert sorted(m.payload for m in kept + out_of_order) == sorted(m.payload for m in good)


def test_rate_zero_changes_nothing_and_bad_rate_is_refused(demo: Population) -> None:
    start, end = window(0.2)
    good = list(generate.messages(demo, start, end))
    assert list(faults.with_faults(iter(good), 0.0, 1)) == good
    with pytest.raises(ValueError):
        list(faults.with_faults(iter(good), 1.5, 1))
