"""Columns: aligned arrays by name, as the cycles' loads hand them to scoring (read-only)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

Columns = Mapping[str, np.ndarray]  # aligned arrays by column name (read-only when frozen)


def frozen(columns: Mapping[str, np.ndarray]) -> Columns:
    """``columns`` read-only: a mapping nobody can change, of arrays nobody can write."""
    for value in columns.values():
        value.flags.writeable = False
    return MappingProxyType(dict(columns))
