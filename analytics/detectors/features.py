"""Daily routine features of one enrollee's day, from events and readings (pure).

Times are hours from the local midnight that starts day D (so 23:30 the evening before is
-0.5). The night of D is the one that ends on the morning of D. NaN means "no data", never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from dolbom.wire import EVENT_CODES, EventType

FEATURES: Final = (
    "sleep_minutes",  # minutes asleep in the night ending on D (wearable, else bed sensor)
    "bed_time_h",  # first bed entry 18:00-03:00 (later ones are returns from the toilet)
    "first_activity_h",  # first movement after 05:00 (a 4 am toilet visit is still night)
    "last_activity_h",  # last movement before midnight
    "steps",
    "active_minutes",  # minutes with motion or steps
    "night_toilet_visits",  # 22:00-06:00, visits 10 min apart
    "time_out_h",  # hours out of home (door, then no movement inside)
    "checkins_answered",
    "mood",  # mean check-in mood 1-5
    "longest_gap_h",  # longest daytime gap between movements at home
    "night_door_opens",  # door openings 00:00-05:00
)
INDEX: Final = {name: i for i, name in enumerate(FEATURES)}
# The ones the routine model compares (the last two feed the clock profile instead).
ROUTINE_FEATURES: Final = FEATURES[:10]

MOTION = EVENT_CODES[EventType.MOTION]
DOOR_OPEN = EVENT_CODES[EventType.DOOR_OPEN]
DOOR_CLOSE = EVENT_CODES[EventType.DOOR_CLOSE]
BED_EXIT = EVENT_CODES[EventType.BED_EXIT]
BED_ENTRY = EVENT_CODES[EventType.BED_ENTRY]
CHECKIN = EVENT_CODES[EventType.CHECKIN]
TOILET = EVENT_CODES[EventType.TOILET]
MED_TAKEN = EVENT_CODES[EventType.MEDICATION_TAKEN]
DOORS: Final = (DOOR_OPEN, DOOR_CLOSE)
# Events that show a person moving at home (bed entry does not: lying down is not activity).
ACTIVITY_EVENTS: Final = (MOTION, BED_EXIT, TOILET, DOOR_OPEN, DOOR_CLOSE, MED_TAKEN, CHECKIN)

OUT_MIN_H: Final = 20 / 60  # a door followed by 20 min without movement inside = out
VISIT_MERGE_H: Final = 10 / 60


@dataclass(frozen=True, slots=True)
class DayData:
    """One enrollee's data around day D; times in hours from local midnight of D."""

    event_type: np.ndarray  # event codes
    event_h: np.ndarray
    event_bathroom: np.ndarray  # bool: the event's device is in the bathroom
    answered: np.ndarray  # float: 1 answered, 0 not, NaN not a check-in / unknown
    mood: np.ndarray  # float, NaN where none
    steps_h: np.ndarray
    steps: np.ndarray
    sleep_h: np.ndarray  # sleep_minutes readings
    sleep_minutes: np.ndarray


def _in(h: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (h >= lo) & (h < hi)


FLUSH_MERGE_H: Final = 3 / 60  # two flushes 3 min apart are one visit


def _visits(h: np.ndarray, merge_h: float = VISIT_MERGE_H) -> int:
    if h.size == 0:
        return 0
    h = np.sort(h)
    return int(1 + np.count_nonzero(np.diff(h) > merge_h))


def daily_features(day: DayData) -> np.ndarray:
    """The FEATURES vector of one day (NaN where there is no data)."""
    out = np.full(len(FEATURES), np.nan)
    t, h = day.event_type, day.event_h
    activity_h = np.concatenate((h[np.isin(t, ACTIVITY_EVENTS)], day.steps_h[day.steps > 0]))
    activity_h.sort()
    has_home_sensors = bool(np.isin(t, (MOTION, *DOORS, BED_EXIT, BED_ENTRY, TOILET)).any())
    has_activity_source = has_home_sensors or day.steps_h.size > 0

    # sleep: wearable estimate first; else bed entry to the first bed exit after 04:00
    in_night = _in(day.sleep_h, 0, 14)
    beds = h[(t == BED_ENTRY) & _in(h, -6, 3)]
    if beds.size:
        out[INDEX["bed_time_h"]] = beds.min()
    if in_night.any():
        out[INDEX["sleep_minutes"]] = float(day.sleep_minutes[in_night][-1])
    elif beds.size:
        exits = h[(t == BED_EXIT) & _in(h, 4, 13)]
        if exits.size:
            out[INDEX["sleep_minutes"]] = (exits.min() - beds.min()) * 60

    if has_activity_source:
        day_act = activity_h[_in(activity_h, 5, 24)]
        if day_act.size:
            out[INDEX["first_activity_h"]] = day_act[0]
        late = activity_h[_in(activity_h, 12, 24)]
        if late.size:
            out[INDEX["last_activity_h"]] = late[-1]
        minutes = np.unique(np.floor(activity_h[_in(activity_h, 0, 24)] * 60))
        out[INDEX["active_minutes"]] = float(minutes.size)
    if day.steps_h.size:
        total = float(day.steps[_in(day.steps_h, 0, 24)].sum())
        if total > 0 or has_home_sensors:
            out[INDEX["steps"]] = total
        elif not has_home_sensors:  # a wearable with no step all day was not worn: no data
            for name in ("first_activity_h", "last_activity_h", "active_minutes"):
                out[INDEX[name]] = np.nan
    if has_home_sensors:
        toilet_h = h[((t == TOILET) | ((t == MOTION) & day.event_bathroom)) & _in(h, -2, 6)]
        # a flush is a visit: motion merged at 10 min runs close visits together (measured on
        # the simulator's disrupted nights: 7 visits counted as 4)
        flush_h = h[(t == TOILET) & _in(h, -2, 6)]
        out[INDEX["night_toilet_visits"]] = max(_visits(toilet_h), _visits(flush_h, FLUSH_MERGE_H))
        out[INDEX["night_door_opens"]] = float(np.count_nonzero((t == DOOR_OPEN) & _in(h, 0, 5)))
        out[INDEX["time_out_h"]], out[INDEX["longest_gap_h"]] = _out_and_gap(t, h)
    checkins = t == CHECKIN
    if checkins.any():
        out[INDEX["checkins_answered"]] = float(np.nansum(day.answered[checkins & _in(h, 0, 24)] == 1))
        moods = day.mood[checkins & np.isfinite(day.mood) & _in(h, 0, 24)]
        if moods.size:
            out[INDEX["mood"]] = float(moods.mean())
    return out


def _out_and_gap(t: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """Hours out of home, and the longest daytime gap between movements at home (08-21)."""
    sel = _in(h, 0, 24) & np.isin(t, ACTIVITY_EVENTS)
    order = np.argsort(h[sel], kind="stable")
    th, hh = t[sel][order], h[sel][order]
    out_h = 0.0
    longest = 0.0
    if hh.size == 0:
        return 0.0, float("nan")
    # each interval between consecutive movements: "out" if it starts at a door and lasts long
    starts, ends = hh[:-1], hh[1:]
    door_start = np.isin(th[:-1], DOORS)
    gaps = ends - starts
    out_mask = door_start & (gaps >= OUT_MIN_H)
    out_h += float(gaps[out_mask].sum())
    if th[-1] in DOORS and 24 - hh[-1] >= OUT_MIN_H:
        out_h += 24 - hh[-1]
    day_lo, day_hi = np.clip(starts, 8, 21), np.clip(ends, 8, 21)
    home_gaps = (day_hi - day_lo)[~out_mask]
    if home_gaps.size:
        longest = float(home_gaps.max())
    return out_h, longest
