-- The care worker's workspace (issue 14, CONTRACT §5.1-5.3): how to reach a person, the log
-- of every contact with them, and what the daily worklist reads.

-- How to reach the person (§5.1). The API checks the shapes (api/enrollees/models.py: a
-- phone is digits, spaces, '+' and '-'; a guardian is {"name", "relation", "phone"}); the
-- checks here only bound what a bug could store. Constant defaults: no table rewrite.
ALTER TABLE enrollees
    ADD COLUMN phone      text CHECK (length(phone) BETWEEN 1 AND 20),
    ADD COLUMN address    text CHECK (length(address) BETWEEN 1 AND 300),
    ADD COLUMN guardians  jsonb NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(guardians) = 'array' AND jsonb_array_length(guardians) <= 5);

-- The contact log (§5.2): every call, visit, message, speaker message or video call with a
-- person, by whom, about which alert if any, and when to follow up. Written by the API
-- (api/contacts/service.py ``record_contact``, also when an alert is resolved as called or
-- visited); counted by channel for the regional report (store/contacts.py). Enrollees and
-- users are deactivated, never deleted (as for alerts); an alert goes after its retention
-- (store/retention.py) while a contact about it may stay, so alert_id is then set NULL.
CREATE TABLE contacts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrollee_id  integer NOT NULL REFERENCES enrollees(id),
    user_id      integer REFERENCES users(id),            -- who recorded it
    channel      text NOT NULL CHECK (channel IN ('phone', 'visit', 'message', 'speaker', 'video')),
    note         text NOT NULL CHECK (length(note) <= 4000),
    outcome      text CHECK (length(outcome) BETWEEN 1 AND 200),
    alert_id     bigint REFERENCES alerts(id) ON DELETE SET NULL,
    at           timestamptz NOT NULL,                     -- when the contact happened
    follow_up    date,                                     -- when to reach the person again
    created_at   timestamptz NOT NULL DEFAULT now()        -- when it was recorded
);
-- GET /v1/enrollees/{id}/contacts (newest first, by (at, id)) and the worklist's "a contact
-- recorded since the follow-up day".
CREATE INDEX contacts_enrollee_at_idx ON contacts (enrollee_id, at DESC, id DESC);
-- The worklist's follow-up due: each person's newest contact that set a follow-up day.
CREATE INDEX contacts_follow_up_idx ON contacts (enrollee_id, at DESC, id DESC)
    WHERE follow_up IS NOT NULL;
-- The contacts of one alert (the alert's trail), and the retention job (by at).
CREATE INDEX contacts_alert_idx ON contacts (alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX contacts_at_idx ON contacts (at);
