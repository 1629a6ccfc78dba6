-- The minute job's clock checks at scale (issue 5, bench/minute.py): each minute they read
-- only the devices that can raise or clear a device alert, per group of shards, instead of
-- the whole kit of every enrollee (12 devices each in the standard kit).
-- analytics/clock_queries.py uses the same predicates (the planner matches them literally):
-- a device reported offline or with a battery at or below clock.BATTERY_LOW (15 %) ...
CREATE INDEX devices_attention_idx ON devices (analytics_shard(enrollee_id))
    WHERE removed_at IS NULL AND (online = false OR battery <= 15);
-- ... and the wearables silent for clock.WEARABLE_SILENT_H, found by their last data time:
-- analytics_device_seen says which devices are wearables (set when the minute job first sees
-- a device, from the device's kind, and kept by a trigger if a kind is ever changed).
ALTER TABLE analytics_device_seen ADD COLUMN wearable boolean NOT NULL DEFAULT false;
UPDATE analytics_device_seen s SET wearable = true FROM devices d WHERE d.id = s.device AND d.kind = 'wearable';
CREATE INDEX analytics_device_seen_wearable_idx ON analytics_device_seen (last_ts) WHERE wearable;

CREATE FUNCTION analytics_device_kind_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE analytics_device_seen SET wearable = (NEW.kind = 'wearable') WHERE device = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER devices_kind_seen
    AFTER UPDATE OF kind ON devices
    FOR EACH ROW EXECUTE FUNCTION analytics_device_kind_changed();

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
