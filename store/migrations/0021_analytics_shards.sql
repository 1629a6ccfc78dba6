-- Analytics scale-out (issue 8): enrollees are split into 64 fixed shards by a hash of their
-- id; analytics workers score shards under PostgreSQL advisory locks (docs/analytics.md).

-- The shard of an enrollee: Knuth's multiplicative hash of the id, top 6 of 32 bits.
-- analytics/shards.py ``shard_of`` computes the same number in Python (tested); 64 shards
-- (``N_SHARDS``) are fixed: changing them is a new migration of the per-shard job state.
CREATE FUNCTION analytics_shard(enrollee_id integer) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (((enrollee_id::bigint * 2654435761) & 4294967295) >> 26)::integer $$;

-- A worker reads its shards' part of the queue past each shard's own watermark.
CREATE INDEX scoring_queue_shard_idx ON scoring_queue (analytics_shard(enrollee_id), id);
-- The clock, the nightly refit and auto-resolve select a shard's enrollees.
CREATE INDEX enrollees_shard_idx ON enrollees (analytics_shard(id));

-- Per-shard job state replaces the single watermark: an upgraded database goes on from where
-- the single worker stopped (no rescoring, nothing skipped). ``updated_at`` is the shard's
-- liveness: a shard not advanced for ``analytics_orphan_after_s`` is taken over.
INSERT INTO job_state (job, watermark, data_time, detail, updated_at)
SELECT 'analytics.score/' || s, o.watermark, o.data_time, coalesce(o.detail, '{}'::jsonb),
       coalesce(o.updated_at, now())
FROM generate_series(0, 63) AS s
LEFT JOIN job_state o ON o.job = 'analytics.score';

INSERT INTO job_state (job, watermark, data_time, detail, updated_at)
SELECT 'analytics.nightly/' || s, NULL, o.data_time, coalesce(o.detail, '{}'::jsonb),
       coalesce(o.updated_at, now())
FROM generate_series(0, 63) AS s
LEFT JOIN job_state o ON o.job = 'analytics.nightly';

DELETE FROM job_state WHERE job IN ('analytics.score', 'analytics.nightly', 'analytics.clock');
