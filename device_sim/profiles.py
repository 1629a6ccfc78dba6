"""The kinds of enrollee a scenario can ask for, and their typical values (pure data)."""

from __future__ import annotations

from dataclasses import dataclass

from device_sim.model import Person


@dataclass(frozen=True, slots=True)
class Profile:
    """Typical values of a kind of enrollee; each person varies around them."""

    conditions: tuple[str, ...]
    steps_per_day: float
    outing_prob: float
    night_toilet: float
    hr_rest: float
    sbp: float
    dbp: float
    glucose_fasting: float
    spo2: float
    on_medication: bool


# Baselines for older adults (65+) living at home. Steps: Tudor-Locke et al. 2011, healthy
# older adults 2,000-9,000 steps/day, frail or chronically ill 1,200-3,500. Home BP of treated
# hypertensives around 140/85 (ESC/ESH 2018); fasting glucose of treated type 2 diabetics
# 120-160 mg/dL (ADA 2024 target 80-130 preprandial); SpO2 in heart failure 93-97 %.
PROFILES: dict[str, Profile] = {
    "healthy": Profile((), 6000, 0.55, 1.0, 66, 124, 76, 94, 97.0, False),
    "hypertensive": Profile(("hypertension",), 5000, 0.5, 1.3, 70, 142, 86, 97, 96.5, True),
    "diabetic": Profile(("diabetes", "hypertension"), 4500, 0.45, 1.5, 72, 134, 80, 138, 96.5,
                        True),
    "heart_failure": Profile(("heart_failure", "hypertension"), 3000, 0.35, 1.8, 76, 128, 76, 100,
                             95.0, True),
    "frail": Profile(("frailty",), 2000, 0.25, 1.8, 72, 130, 74, 96, 95.5, True),
    "cognitive": Profile(("cognitive_impairment",), 4000, 0.35, 1.5, 70, 132, 78, 96, 96.5, True),
}


def on_medication(person: Person) -> bool:
    """Whether the person's profile takes daily medication (the speaker reminds them)."""
    return PROFILES[person.profile].on_medication
