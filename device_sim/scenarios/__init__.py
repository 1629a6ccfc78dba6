"""Scenarios: their files (``spec``), their injections in absolute time (``injections``) and
the ground truth those injections make (``truth``).

The names below are the package's interface (``scenarios.load``, ``scenarios.ground_truth``...);
they live in those modules.
"""

from device_sim.scenarios.injections import (
    DEFAULT_DEVICE,
    DEFAULT_HOURS,
    INJECTED_SEVERITY,
    origin_for,
    resolve,
)
from device_sim.scenarios.spec import BUILTIN, SCENARIO_DIR, Group, Scenario, load, parse
from device_sim.scenarios.truth import ground_truth, read_jsonl, truth_record, write_jsonl

__all__ = [
    "BUILTIN",
    "DEFAULT_DEVICE",
    "DEFAULT_HOURS",
    "INJECTED_SEVERITY",
    "SCENARIO_DIR",
    "Group",
    "Scenario",
    "ground_truth",
    "load",
    "origin_for",
    "parse",
    "read_jsonl",
    "resolve",
    "truth_record",
    "write_jsonl",
]
