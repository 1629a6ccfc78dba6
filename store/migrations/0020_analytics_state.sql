-- Analytics state (issue 5): personal baselines, daily features, per-person models, the
-- condition state behind hysteresis and auto-resolve, and what the clock checks read.

-- Personal baseline per metric and time-of-day bin (robust: median and MAD of hourly means).
CREATE TABLE analytics_baselines (
    enrollee_id  integer  NOT NULL REFERENCES enrollees(id),
    metric       smallint NOT NULL,
    bin          smallint NOT NULL,          -- 0..3: local 00-06, 06-12, 12-18, 18-24
    median       real     NOT NULL,
    sigma        real     NOT NULL,          -- 1.4826 x MAD
    n_hours      integer  NOT NULL,
    n_days       integer  NOT NULL,
    fitted_for   timestamptz NOT NULL,       -- data time of the nightly run that fitted it
    PRIMARY KEY (enrollee_id, metric, bin)
);

-- One row per enrollee and local day: the routine features (analytics/features.py order).
CREATE TABLE analytics_daily_features (
    enrollee_id  integer NOT NULL REFERENCES enrollees(id),
    day          date    NOT NULL,
    features     real[]  NOT NULL,           -- NaN where a feature has no data that day
    PRIMARY KEY (enrollee_id, day)
);

-- The per-person routine model and clock profile refitted nightly.
CREATE TABLE analytics_person_models (
    enrollee_id  integer PRIMARY KEY REFERENCES enrollees(id),
    model        text    NOT NULL,
    params       jsonb   NOT NULL,
    n_days       integer NOT NULL,
    fitted_for   timestamptz NOT NULL
);

-- What the minute job has seen, per enrollee, for the clock conditions (data time).
CREATE TABLE analytics_activity (
    enrollee_id           integer PRIMARY KEY REFERENCES enrollees(id),
    last_data_ts          timestamptz,
    last_activity_ts      timestamptz,   -- motion, bed, toilet, door, steps > 0
    last_door_ts          timestamptz,
    last_checkin_ts       timestamptz,
    last_answered_ts      timestamptz,
    unanswered_in_row     integer NOT NULL DEFAULT 0
);

CREATE TABLE analytics_device_seen (
    device   integer PRIMARY KEY REFERENCES devices(id),
    last_ts  timestamptz NOT NULL
);

-- Condition state per (enrollee, kind): the latest evidence of the condition and the latest
-- evidence that it has cleared (past the hysteresis band). Auto-resolve reads it.
CREATE TABLE analytics_conditions (
    enrollee_id     integer NOT NULL REFERENCES enrollees(id),
    kind            text    NOT NULL,
    last_breach_ts  timestamptz,
    last_clear_ts   timestamptz,
    PRIMARY KEY (enrollee_id, kind)
);
