"""Query results straight into numpy arrays, and numpy arrays into query parameters, for the
minute job's large reads and writes.

Tens of thousands of rows cost far more as Python objects (a tuple per row, an object per
value, then ``np.array`` over the list; or a list of datetimes dumped value by value) than the
query itself. Here the server packs the result into one ``bytea``: each row's columns in
PostgreSQL's binary send format (big-endian, fixed width) concatenated, rows concatenated
(``string_agg``), read in one binary fetch and cut by one structured ``np.frombuffer``. The
query must give each column its declared type and map NULLs to a value (e.g.
``coalesce(x, 'NaN')``): a row with a NULL would be left out of the aggregate, so the row
count is checked and a mismatch is an error, never a silent misread. Array parameters go as
one text literal (``'{1,2,3}'``) that the server parses, instead of a Python list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final

import numpy as np
import psycopg

from analytics.errors import AnalyticsError

# Column types: their send function and big-endian numpy type.
TYPES: Final[dict[str, tuple[str, str]]] = {
    "int4": ("int4send", ">i4"),
    "int8": ("int8send", ">i8"),
    "float8": ("float8send", ">f8"),
    "bool": ("boolsend", "?"),
}


def arrays(
    conn: psycopg.Connection,
    query: str,
    params: Sequence[Any] | None,
    columns: Sequence[tuple[str, str]],
    order_by: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Run ``query`` and return its columns as native-endian arrays keyed by the names in
    ``columns`` ((name, type) in select order, type one of ``TYPES``). Rows come in the order
    of the output columns named in ``order_by`` (else in no particular order)."""
    names = [f"c{i}" for i in range(len(columns))]
    packed = " || ".join(f"{TYPES[kind][0]}(q.{n})" for n, (_, kind) in zip(names, columns, strict=True))
    order = f" ORDER BY {', '.join(f'q.{names[[c[0] for c in columns].index(k)]}' for k in order_by)}"
    row = conn.execute(
        f"SELECT count(*), coalesce(string_agg({packed}, ''::bytea{order if order_by else ''}), ''::bytea) "
        f"FROM ({query}) AS q({', '.join(names)})",
        params,
        binary=True,
    ).fetchone()
    assert row is not None
    count, data = int(row[0]), bytes(row[1])
    record = np.dtype([(name, TYPES[kind][1]) for name, kind in columns])
    if len(data) != count * record.itemsize:
        raise AnalyticsError(
            f"analytics read {count} rows but {len(data)} bytes of {record.itemsize}: a NULL or a "
            "column of another type in the result"
        )
    rows = np.frombuffer(data, dtype=record)
    return {name: rows[name].astype(TYPES[kind][1].lstrip("<>")) for name, kind in columns}


def native(kind: str) -> np.dtype:
    """The native numpy type of a column type of ``TYPES``."""
    return np.dtype(TYPES[kind][1].lstrip("<>"))


def int_array(values: Iterable[int]) -> str:
    """An ``int[]``/``bigint[]`` parameter as one text literal (cast it in the query)."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def float_array(values: Iterable[float]) -> str:
    """A ``float8[]`` parameter as one text literal; ``repr`` round-trips every double exactly,
    and NaN / ±inf are spelled as PostgreSQL reads them."""
    special = {math.inf: "Infinity", -math.inf: "-Infinity"}
    out = []
    for v in values:
        x = float(v)
        out.append(repr(x) if math.isfinite(x) else special.get(x, "NaN"))
    return "{" + ",".join(out) + "}"

