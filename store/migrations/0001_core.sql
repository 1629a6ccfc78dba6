-- Dolbom schema v1: the people, their devices, alerts, audit and quarantine.
-- Readings and events are created by 0002 (partitioned, or hypertables with TimescaleDB).

CREATE TABLE regions (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    timezone    text NOT NULL DEFAULT 'Asia/Seoul',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 200),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('care_worker', 'center_staff', 'admin')),
    region_id      integer REFERENCES regions(id),
    display_name   text,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE enrollees (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id       integer NOT NULL REFERENCES regions(id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    birth_year      smallint NOT NULL CHECK (birth_year BETWEEN 1890 AND 2030),
    sex             char(1) NOT NULL CHECK (sex IN ('F', 'M')),
    care_worker_id  integer REFERENCES users(id),
    conditions      text[] NOT NULL DEFAULT '{}',
    timezone        text NOT NULL DEFAULT 'Asia/Seoul',
    thresholds      jsonb NOT NULL DEFAULT '{}'::jsonb,  -- per-enrollee overrides, dolbom/thresholds.py
    enrolled_at     timestamptz NOT NULL DEFAULT now(),
    active          boolean NOT NULL DEFAULT true
);
CREATE INDEX enrollees_region_idx ON enrollees (region_id);
CREATE INDEX enrollees_care_worker_idx ON enrollees (care_worker_id);

-- Devices: ``id`` is the small integer stored in readings; ``device_id`` the wire identifier.
CREATE TABLE devices (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id    text NOT NULL UNIQUE CHECK (device_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    enrollee_id  integer NOT NULL REFERENCES enrollees(id),
    kind         text NOT NULL CHECK (kind IN ('wearable', 'bp_monitor', 'glucometer', 'scale',
                     'motion_sensor', 'door_sensor', 'bed_sensor', 'ai_speaker', 'hub')),
    room         text CHECK (room IN ('bedroom', 'bathroom', 'kitchen', 'living', 'entrance', 'other')),
    last_seen    timestamptz,
    battery      smallint CHECK (battery BETWEEN 0 AND 100),
    online       boolean,
    status_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    removed_at   timestamptz
);
CREATE INDEX devices_enrollee_idx ON devices (enrollee_id);

-- Ingest keeps an in-memory registry and refreshes it on this notification.
CREATE FUNCTION dolbom_notify_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('dolbom_devices',
                      CASE WHEN TG_OP = 'DELETE' THEN OLD.device_id ELSE NEW.device_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER devices_notify
    AFTER INSERT OR DELETE OR UPDATE OF enrollee_id, kind, room, removed_at ON devices
    FOR EACH ROW EXECUTE FUNCTION dolbom_notify_device();

CREATE TABLE metrics (
    code  smallint PRIMARY KEY,
    name  text NOT NULL UNIQUE,
    unit  text NOT NULL
);

CREATE TABLE event_types (
    code  smallint PRIMARY KEY,
    name  text NOT NULL UNIQUE
);

-- Alerts (CONTRACT §2). One open or acknowledged alert per (enrollee, kind).
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollee_id      integer NOT NULL REFERENCES enrollees(id),
    kind             text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status           text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'acknowledged', 'resolved')),
    summary          text NOT NULL,
    evidence         jsonb NOT NULL DEFAULT '{}'::jsonb,
    source           text NOT NULL DEFAULT 'analytics',   -- 'ingest' or 'analytics'
    occurrences      integer NOT NULL DEFAULT 1,
    onset_at         timestamptz NOT NULL,                -- data time of the first evidence
    last_seen_at     timestamptz NOT NULL,                -- data time of the latest evidence
    opened_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  integer REFERENCES users(id),
    resolved_at      timestamptz,
    resolved_by      integer REFERENCES users(id),
    outcome          text,
    snoozed_until    timestamptz,
    escalated_at     timestamptz
);
CREATE UNIQUE INDEX alerts_one_active_idx ON alerts (enrollee_id, kind) WHERE status <> 'resolved';
CREATE INDEX alerts_opened_idx ON alerts (opened_at DESC, id DESC);
CREATE INDEX alerts_enrollee_idx ON alerts (enrollee_id, opened_at DESC);
CREATE INDEX alerts_active_idx ON alerts (status, severity) WHERE status <> 'resolved';

-- Every change of an alert gets an increasing change id: the SSE event id (CONTRACT §3),
-- so a client reconnecting with Last-Event-ID receives what it missed.
CREATE TABLE alert_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX alert_changes_alert_idx ON alert_changes (alert_id);

CREATE FUNCTION dolbom_alert_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change_id bigint;
BEGIN
    INSERT INTO alert_changes (alert_id) VALUES (NEW.id) RETURNING id INTO change_id;
    PERFORM pg_notify('dolbom_alerts', change_id::text || ':' || NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_changed AFTER INSERT OR UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION dolbom_alert_changed();

-- The trail of every alert action: by people (acknowledge, resolve, snooze) and by the
-- system (open, update, escalate, auto_resolve).
CREATE TABLE alert_actions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    action       text NOT NULL,
    user_id      integer REFERENCES users(id),
    note         text,
    outcome      text,
    detail       jsonb,
    client_addr  text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_actions_alert_idx ON alert_actions (alert_id, at);

-- Every read of an enrollee's health data and every alert action by a person.
CREATE TABLE access_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      integer REFERENCES users(id),
    username     text,
    action       text NOT NULL,             -- e.g. 'read_readings', 'acknowledge_alert'
    enrollee_id  integer,
    resource     text,                      -- the path or object read
    client_addr  text,
    detail       jsonb
);
CREATE INDEX access_audit_at_idx ON access_audit (at DESC);
CREATE INDEX access_audit_enrollee_idx ON access_audit (enrollee_id, at DESC);

-- Bad input is never dropped (CONTRACT §1): it is kept here with a readable reason.
CREATE TABLE quarantine (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    device_id    text,
    reason_code  text NOT NULL,
    reason       text NOT NULL,
    payload      bytea NOT NULL
);
CREATE INDEX quarantine_received_idx ON quarantine (received_at DESC);
CREATE INDEX quarantine_reason_idx ON quarantine (reason_code);

-- Which enrollees received data in which data-time window, written by ingest with each
-- committed batch; analytics consumes it past its watermark so late (backlog) data is scored.
CREATE TABLE scoring_queue (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollee_id  integer NOT NULL,
    ts_min       timestamptz NOT NULL,
    ts_max       timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Watermarks and small state of scheduled jobs.
CREATE TABLE job_state (
    job         text PRIMARY KEY,
    watermark   bigint,
    data_time   timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    detail      jsonb
);

-- Counters kept in the store so one /metrics scrape shows the whole system (CONTRACT §3).
CREATE TABLE counters (
    name   text PRIMARY KEY,
    value  bigint NOT NULL DEFAULT 0
);
INSERT INTO counters (name) VALUES ('readings_stored'), ('events_stored');
