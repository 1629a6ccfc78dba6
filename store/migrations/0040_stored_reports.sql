-- Finished regional reports (issue 7): written by the monthly job (reports/jobs.py), listed
-- on the centre's page. One report per region, period and kind; a re-run replaces it.
CREATE TABLE stored_reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id     integer NOT NULL REFERENCES regions(id),
    period        text    NOT NULL CHECK (period ~ '^\d{4}-(\d{2}|W\d{2})$'),
    kind          text    NOT NULL DEFAULT 'regional' CHECK (kind IN ('regional')),
    generated_at  timestamptz NOT NULL DEFAULT now(),
    as_of         timestamptz NOT NULL,
    enrollees     integer NOT NULL,
    report        jsonb   NOT NULL,
    csv           text    NOT NULL,
    pdf           bytea   NOT NULL,
    UNIQUE (region_id, period, kind)
);
CREATE INDEX stored_reports_region_idx ON stored_reports (region_id, period DESC);
