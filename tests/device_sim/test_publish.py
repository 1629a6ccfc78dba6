"""Pacing of the publisher: the past as fast as allowed, the present on time."""

from __future__ import annotations

from device_sim import publish


class Recorder:
    """Stands in for the broker connection; records the wall time of every publish."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.counts = publish.Counts()
        self.published: list[tuple[float, str]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self.counts.sent += 1
        self.counts.acked += 1
        self.published.append((self.clock[0], topic))

    def flush(self, timeout: float = 0) -> bool:
        return True


def _run(history: list[int], live: list[int], speed: float | None) -> list[tuple[float, str]]:
    clock = [1000.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    rec = Recorder(clock)
    publish.run(rec, [(ms, f"h{ms}", b"{}", 1, False) for ms in history],  # type: ignore[arg-type]
                live=[(ms, f"l{ms}", b"{}", 1, False) for ms in live],
                speed=speed, clock=lambda: clock[0], sleep=sleep)
    return rec.published


def test_history_goes_out_at_once_and_live_on_time() -> None:
    out = _run([100_000, 500_000, 900_000], [1_002_000, 1_005_000], None)
    assert [t for t, _ in out[:3]] == [1000.0] * 3
    assert [round(t, 3) for t, _ in out[3:]] == [1002.0, 1005.0]


def test_speed_paces_history_while_live_interleaves() -> None:
    # History spans 100 s of data time; at 10x it takes 10 s of wall time.
    out = _run([900_000, 950_000, 1_000_000 - 1], [1_003_000], 10)
    assert [(round(t, 1), name) for t, name in out] == [
        (1000.0, "h900000"), (1003.0, "l1003000"), (1005.0, "h950000"), (1010.0, "h999999")]
