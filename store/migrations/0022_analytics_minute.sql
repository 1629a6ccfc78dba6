-- The minute job's clock checks at scale (issue 5, bench/minute.py): each minute they read
-- only the devices that can raise or clear a device alert, per group of shards, instead of
-- the whole kit of every enrollee (12 devices each in the standard kit).
-- analytics/clock_queries.py uses the same predicates (the planner matches them literally):
-- a device reported offline or with a battery at or below clock.BATTERY_LOW (15 %) ...
CREATE INDEX devices_attention_idx ON devices (analytics_shard(enrollee_id))
    WHERE removed_at IS NULL AND (online = false OR battery <= 15);
-- ... and the wearables silent for clock.WEARABLE_SILENT_H, found by the hour of their last
-- data in a table of their own: an index on analytics_device_seen.last_ts would make every
-- update of that table (tens of thousands a minute) a non-HOT one, and the hour changes once
-- an hour, not every minute. It only pre-selects (the hour is at or before the last data
-- time); the clock reads the exact time from analytics_device_seen. The minute job writes
-- both (analytics/clock_queries.py ``upsert_device_seen``); a change of kind moves a device.
CREATE TABLE analytics_wearable_seen (
    device     integer PRIMARY KEY REFERENCES devices(id),
    last_hour  timestamptz NOT NULL
);
CREATE INDEX analytics_wearable_seen_hour_idx ON analytics_wearable_seen (last_hour);
INSERT INTO analytics_wearable_seen (device, last_hour)
SELECT s.device, date_bin('1 hour', s.last_ts, timestamptz 'epoch')
FROM analytics_device_seen s JOIN devices d ON d.id = s.device
WHERE d.kind = 'wearable';

CREATE FUNCTION analytics_device_kind_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'wearable' THEN
        INSERT INTO analytics_wearable_seen (device, last_hour)
        SELECT device, date_bin('1 hour', last_ts, timestamptz 'epoch') FROM analytics_device_seen
        WHERE device = NEW.id
        ON CONFLICT (device) DO NOTHING;
    ELSE
        DELETE FROM analytics_wearable_seen WHERE device = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER devices_kind_seen
    AFTER UPDATE OF kind ON devices
    FOR EACH ROW EXECUTE FUNCTION analytics_device_kind_changed();

-- The activity and device state are rewritten every minute for everyone with new data: room
-- on each page lets those updates stay HOT (no index entry per update).
ALTER TABLE analytics_activity SET (fillfactor = 70);
ALTER TABLE analytics_device_seen SET (fillfactor = 70);

-- The minute job reads its new data by time and resolves each reading's device to its
-- enrollee in memory (analytics/recent.py). It reloads that map when this version moves:
-- any insert or delete of devices, or a change of a device's enrollee, room or kind. Statement
-- level, so provisioning a whole kit bumps it once.
CREATE TABLE analytics_devices_version (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    version  bigint NOT NULL DEFAULT 0
);
INSERT INTO analytics_devices_version DEFAULT VALUES;

CREATE FUNCTION analytics_devices_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE analytics_devices_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER devices_version
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, enrollee_id, room, kind ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_devices_changed();
