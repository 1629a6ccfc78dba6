-- Hardening of ingest (issue 12, CONTRACT §5.9).
-- Quarantine keeps at most the first 64 KB of a payload (dolbom.wire.QUARANTINE_KEEP_BYTES)
-- with the size and SHA-256 of the whole message, so a 10 MB payload costs 64 KB for 90 days
-- and can still be matched against what a device maker says it sent.
ALTER TABLE quarantine
    ADD COLUMN payload_size   integer,
    ADD COLUMN payload_sha256 bytea;

-- The last zigbee2mqtt state stored per device (SHA-256 of the payload as received). A
-- retained state the broker replays when ingest subscribes is compared with it: the same
-- state is not a new motion, door or fall event (docs/protocol.md "Retained messages").
CREATE TABLE z2m_states (
    device          integer PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    payload_sha256  bytea NOT NULL,
    received_at     timestamptz NOT NULL
);
