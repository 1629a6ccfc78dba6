"""Which windows of data time the minute cycle scores, from the shards' queue rows (pure).

Ingest writes a ``scoring_queue`` row (enrollee, ts_min, ts_max) with every batch; a shard's
rows past its watermark are read in id order (analytics/queries/shards.py). Data beyond
``now`` waits: a row reaching past ``now`` is scored up to ``now`` and read again next time
(the watermark stops before it), and the part already scored is not scored again
(``seen_max_id`` / the shard's last data time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analytics.shards import ShardState

Windows = dict[int, tuple[float, float]]  # enrollee id -> (start, end] in epoch seconds


def _windows(
    rows: Mapping[str, np.ndarray],
    last_id: int,
    seen_max: int,
    prev_now: float,
    now: float,
    upto: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The (start, end] windows due as of ``now`` from one shard's queue rows (arrays in id
    order, every row with ``last_id < id <= upto``): enrollee, start, end per row still to
    score (an enrollee may have several; the caller merges them), and the shard's new
    watermark: the row before the first one reaching past ``now`` (it is read again next
    time), else ``upto``. A row already read (``id <= seen_max``) is scored only after
    ``prev_now``."""
    ids, lo, hi = rows["id"], rows["lo"], rows["hi"]
    late = np.flatnonzero(hi > now)
    new_last = int(ids[late[0]]) - 1 if late.size else upto
    start = np.where(ids > seen_max, lo - 1e-3, np.maximum(lo - 1e-3, prev_now))
    end = np.minimum(hi, now)
    due = end > start
    return rows["enrollee_id"][due].astype(np.int64), start[due], end[due], max(last_id, new_last)


def _merge(parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Windows:
    """One window per enrollee: the earliest start and the latest end of their rows'."""
    if not parts:
        return {}
    enrollee, start, end = (np.concatenate([p[i] for p in parts]) for i in range(3))
    ids, which = np.unique(enrollee, return_inverse=True)
    first = np.full(ids.size, np.inf)
    last = np.full(ids.size, -np.inf)
    np.minimum.at(first, which, start)
    np.maximum.at(last, which, end)
    spans = zip(ids.tolist(), first.tolist(), last.tolist(), strict=True)
    return {int(e): (float(s), float(t)) for e, s, t in spans}


@dataclass(frozen=True, slots=True)
class DueWindows:
    """What a group of shards' queue rows ask for as of ``now``."""

    windows: Windows
    states: dict[int, ShardState]  # each shard's state once these windows are scored
    queue_rows: int
    truncated: int  # shards that had ``limit`` rows or more (more to read in another pass)


def due_windows(
    rows: Mapping[str, np.ndarray],
    states: Mapping[int, ShardState],
    now: float,
    frontier: int,
    limit: int,
) -> DueWindows:
    """The windows due from ``rows`` (the queue rows of ``states``' shards past their
    watermarks up to id ``frontier``, at most ``limit`` per shard, by shard and id) as of data
    time ``now``, and the shards' new states (not stored)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    new: dict[int, ShardState] = {}
    queue_rows = truncated = 0
    for shard, st in states.items():
        lo, hi = np.searchsorted(rows["shard"], [shard, shard + 1])
        mine = {key: value[lo:hi] for key, value in rows.items()}
        count = int(hi - lo)
        full = count >= limit
        upto = int(mine["id"][-1]) if full else max(frontier, st.watermark)
        *found, watermark = _windows(mine, st.watermark, st.seen_max_id, st.data_time, now, upto)
        parts.append((found[0], found[1], found[2]))
        new[shard] = dataclasses.replace(
            st, watermark=watermark, data_time=now, seen_max_id=max(st.seen_max_id, upto)
        )
        queue_rows += count
        truncated += int(full)
    return DueWindows(_merge(parts), new, queue_rows, truncated)
