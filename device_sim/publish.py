"""Publishing simulated messages to an MQTT broker: pacing, acknowledgements and progress."""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import paho.mqtt.client as mqtt

from dolbom.config import MqttTarget
from dolbom.errors import BrokerUnavailable
from dolbom.mqtt import connect_properties, make_client

Frame = tuple[int, str, bytes, int, bool]  # (sent_ms, topic, payload, qos, retain)
MAX_OUTSTANDING = 2000  # unacknowledged QoS 1 messages before the publisher waits
PROGRESS_EVERY_S = 2.0
FLUSH_TIMEOUT_S = 30.0
MAX_SLEEP_S = 0.5


@dataclass(slots=True)
class Counts:
    sent: int = 0
    acked: int = 0
    failed: int = 0


class Publisher:
    """One MQTT connection that publishes and counts broker acknowledgements."""

    def __init__(self, target: MqttTarget, client_id: str = "") -> None:
        self.target = target
        self.counts = Counts()
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client = make_client(target, client_id)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: Any, properties: object) -> None:
        if getattr(reason, "is_failure", False):
            self._refused = str(reason)
        self._connected.set()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: Any,
                    properties: object) -> None:
        with self._cond:
            if getattr(reason, "is_failure", False):
                self.counts.failed += 1
            else:
                self.counts.acked += 1
            self._cond.notify_all()

    def connect(self, timeout: float = 10.0) -> None:
        try:
            self.client.connect(self.target.host, self.target.port, keepalive=30,
                                clean_start=True, properties=connect_properties())
        except OSError as error:
            raise BrokerUnavailable(
                f"cannot reach the MQTT broker at {self.target.display()} ({error}); start "
                "Mosquitto or set DOLBOM_MQTT_URL") from error
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise BrokerUnavailable(f"the MQTT broker at {self.target.display()} did not answer")
        if self._refused:
            self.close()
            raise BrokerUnavailable(
                f"the MQTT broker at {self.target.display()} refused the connection "
                f"({self._refused})")

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        with self._cond:
            while self.counts.sent - self.counts.acked - self.counts.failed >= MAX_OUTSTANDING:
                if not self._cond.wait(10.0):
                    raise BrokerUnavailable("the MQTT broker stopped acknowledging messages")
            self.counts.sent += 1
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            with self._cond:
                self.counts.failed += 1

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every message is acknowledged; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.counts.acked + self.counts.failed < self.counts.sent:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


class Progress:
    """A line on stderr every few seconds: messages sent, rate, simulated time."""

    def __init__(self, stream: IO[str] | None = None, every_s: float = PROGRESS_EVERY_S) -> None:
        self.stream = stream or sys.stderr
        self.every_s = every_s
        self.started = time.monotonic()
        self.last = self.started

    def tick(self, counts: Counts, sim_time: datetime | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        when = sim_time.strftime("%Y-%m-%d %H:%M %z") if sim_time else "-"
        print(f"sim: {counts.sent:,} sent, {counts.acked:,} acked, "
              f"{counts.sent / elapsed:,.0f} msg/s, simulated time {when}",
              file=self.stream, flush=True)


def _paced(frames: Iterable[Frame], speed: float | None, wall0: float) -> Iterator[tuple[float, Frame]]:
    """(wall time due, frame): never before the frame's own time; ``speed`` paces the past."""
    sim0: int | None = None
    for frame in frames:
        due = frame[0] / 1000
        if speed:
            if sim0 is None:
                sim0 = frame[0]
            due = max(due, wall0 + (frame[0] - sim0) / 1000 / speed) if due < wall0 else due
        yield due, frame


def _wait(due: float, clock: Callable[[], float], sleep: Callable[[float], None],
          progress: Progress | None, publisher: Publisher, sim_ms: int, tz: Any) -> None:
    """Sleep until the wall time ``due``, ticking the progress line meanwhile."""
    while True:
        wait = due - clock()
        if wait <= 0:
            return
        if progress:
            progress.tick(publisher.counts, datetime.fromtimestamp(sim_ms / 1000, tz))
        sleep(min(wait, MAX_SLEEP_S))


def run(
    publisher: Publisher,
    frames: Iterable[Frame],
    *,
    live: Iterable[Frame] = (),
    speed: float | None = None,
    progress: Progress | None = None,
    tz: Any = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    notes: Iterable[tuple[int, str]] = (),
) -> Counts:
    """Publish ``(sent_ms, topic, payload, qos, retain)`` frames in order.

    A frame is never published before its own (simulated) send time, because data time is
    real time: the past (``frames``) goes out as fast as the broker takes it, or ``speed`` times
    faster than real time, while ``live`` frames go out on time, interleaved with the past.
    Every wait is until an absolute time, so an endless live run does not drift from the
    clock. ``notes`` are ``(ms, line)`` printed on the progress stream when their time comes.
    """
    wall0 = clock()
    merged: Iterator[tuple[float, Frame | str]] = heapq.merge(
        _paced(frames, speed, wall0), _paced(live, None, wall0),
        ((ms / 1000, line) for ms, line in notes), key=lambda item: item[0])
    sim_ms = 0
    for due, item in merged:
        if isinstance(item, str):
            _wait(due, clock, sleep, progress, publisher, sim_ms, tz)
            print(item, file=progress.stream if progress else sys.stderr, flush=True)
            continue
        sent_ms, topic, payload, qos, retain = item
        sim_ms = sent_ms
        _wait(due, clock, sleep, progress, publisher, sim_ms, tz)
        publisher.publish(topic, payload, qos, retain)
        if progress and publisher.counts.sent % 256 == 0:
            progress.tick(publisher.counts, datetime.fromtimestamp(sim_ms / 1000, tz))
    publisher.flush()
    if progress:
        progress.tick(publisher.counts, datetime.fromtimestamp(sim_ms / 1000, tz) if sim_ms
                      else None, force=True)
    return publisher.counts


def publish_to_broker(
    target: MqttTarget,
    client_id: str,
    frames: Iterable[Frame],
    *,
    live: Iterable[Frame] = (),
    speed: float | None = None,
    tz: Any = None,
    notes: Iterable[tuple[int, str]] = (),
    progress_every_s: float = PROGRESS_EVERY_S,
) -> int:
    """Connect, publish with a progress line, close; report on stderr; return an exit status
    (0 when every message was acknowledged)."""
    publisher = Publisher(target, client_id=client_id)
    publisher.connect()
    try:
        counts = run(publisher, frames, live=live, speed=speed,
                     progress=Progress(every_s=progress_every_s), tz=tz, notes=notes)
    finally:
        publisher.close()
    print(f"sim: done: {counts.sent} messages sent, {counts.acked} acknowledged", file=sys.stderr)
    return 0 if counts.failed == 0 else 1
