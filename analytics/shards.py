"""How analytics workers split the enrollees: fixed shards, ownership and takeover (pure).

Every enrollee belongs to one of ``N_SHARDS`` shards, ``shard_of(enrollee_id)``: Knuth's
multiplicative hash of the id (times 2654435761, modulo 2**32), whose top ``SHARD_BITS`` bits
are the shard. The same expression is the SQL function ``analytics_shard(integer)``
(migration 0021), so a query can select a shard's rows and an index can serve it; the two are
tested to agree. Consecutive ids (one health centre enrolling its people) spread evenly.

Worker ``i`` of ``n`` owns the shards ``s`` with ``s % n == i``. A shard is scored under a
PostgreSQL advisory lock ``(LOCK_MINUTE, shard)`` (the nightly refit under
``(LOCK_NIGHTLY, shard)``), so two workers never score the same enrollee at once, whatever
their configuration. A worker also scores a shard nobody has advanced for
``orphan_after_s`` (a dead worker's enrollees are still watched) and keeps it, once adopted,
until its owner is back (the owner's next run writes its own name in the shard's state).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

N_SHARDS: Final = 64
SHARD_BITS: Final = 6  # 2**SHARD_BITS == N_SHARDS
_KNUTH: Final = 2654435761  # ~ 2**32 / golden ratio
_MASK32: Final = 0xFFFFFFFF
# Shards locked and scored together in one transaction (one set of queries for all of them):
# a kill loses at most one group's uncommitted work, and a worker's minute cycle is a few
# transactions, not one per shard.
SHARDS_PER_TRANSACTION: Final = 8

# Advisory lock namespaces (the two-integer key space; the second integer is the shard or job).
LOCK_MINUTE: Final = 0x646F6C61  # "dola": score new data and the clock conditions
LOCK_NIGHTLY: Final = 0x646F6C6E  # "doln": nightly refit
# ("dols", 0x646F6C73, is the system-wide jobs' namespace: command/system_jobs.py.)

JOB_SCORE: Final = "analytics.score"
JOB_NIGHTLY: Final = "analytics.nightly"


def shard_of(enrollee_id: int) -> int:
    """The shard of one enrollee (equals SQL ``analytics_shard(enrollee_id)``)."""
    return ((int(enrollee_id) * _KNUTH) & _MASK32) >> (32 - SHARD_BITS)


def shards_of(enrollee_ids: np.ndarray) -> np.ndarray:
    """``shard_of`` over an array of ids."""
    ids = np.asarray(enrollee_ids, dtype=np.int64)
    return (((ids * _KNUTH) & _MASK32) >> (32 - SHARD_BITS)).astype(np.int64)


def job_name(job: str, shard: int) -> str:
    """The ``job_state`` row of one shard's state, e.g. ``analytics.score/17``."""
    return f"{job}/{shard}"


@dataclass(frozen=True, slots=True)
class Worker:
    """One analytics worker: ``index`` of ``count`` (Settings ``analytics_worker_index`` /
    ``analytics_workers``)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"analytics worker index {self.index} is not in 0..{self.count - 1}")

    @property
    def name(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, shard: int) -> bool:
        return shard % self.count == self.index

    def own_shards(self) -> list[int]:
        return [s for s in range(N_SHARDS) if self.owns(s)]

    def all_shards(self) -> list[int]:
        """Every shard, this worker's own first (``--once``: two workers start apart)."""
        own = self.own_shards()
        return own + [s for s in range(N_SHARDS) if not self.owns(s)]


@dataclass(frozen=True, slots=True)
class ShardState:
    """A shard's minute-job state (``job_state`` row ``analytics.score/<shard>``).

    ``watermark``: every queue row of the shard up to this id is consumed; ``seen_max_id``:
    rows up to this id were scored up to ``data_time`` (the data time of the last scoring,
    epoch seconds, -inf never); ``clock_now``: data time of the last clock check; ``owner``:
    the worker that last advanced it; ``age_s``: seconds since then (wall clock, the
    database's)."""

    shard: int
    watermark: int = 0
    data_time: float = float("-inf")
    seen_max_id: int = 0
    clock_now: float = float("-inf")
    owner: str | None = None
    age_s: float = float("inf")

    def same_progress(self, other: ShardState) -> bool:
        """Equal apart from liveness (owner, age)."""
        return (self.watermark, self.data_time, self.seen_max_id, self.clock_now) == (
            other.watermark,
            other.data_time,
            other.seen_max_id,
            other.clock_now,
        )


def claimable(worker: Worker, shard: int, state: ShardState | None, orphan_after_s: float) -> bool:
    """Whether ``worker`` scores ``shard`` this cycle: its own; adopted by it earlier; or
    orphaned (not advanced for ``orphan_after_s``; a shard without state counts as orphaned)."""
    if worker.owns(shard):
        return True
    if state is None:
        return True
    return state.owner == worker.name or state.age_s >= orphan_after_s


def claim(worker: Worker, states: Mapping[int, ShardState], orphan_after_s: float) -> list[int]:
    """The shards ``worker`` scores this cycle: its own first, then those it takes over."""
    own = worker.own_shards()
    others = [
        s
        for s in range(N_SHARDS)
        if not worker.owns(s) and claimable(worker, s, states.get(s), orphan_after_s)
    ]
    return own + others


def groups(shards: Sequence[int], size: int = SHARDS_PER_TRANSACTION) -> list[list[int]]:
    """``shards`` in order, cut into transactions of at most ``size``."""
    return [list(shards[i : i + size]) for i in range(0, len(shards), size)]


def by_shard(enrollee_ids: Iterable[int]) -> dict[int, list[int]]:
    """Enrollee ids grouped by shard (sorted within each)."""
    out: dict[int, list[int]] = {}
    for e in sorted(enrollee_ids):
        out.setdefault(shard_of(e), []).append(e)
    return out
