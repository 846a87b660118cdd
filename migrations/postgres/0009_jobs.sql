-- A durable job queue on the metadata database (src/store/job-queue.ts, src/jobs/): every instance
-- claims due jobs with FOR UPDATE SKIP LOCKED and holds a lease it renews while it works. A job
-- whose lease ran out (its instance crashed) is claimed again; `dedupe_key` makes an enqueue
-- idempotent (a schedule's due time is enqueued once however many instances see it).

CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  tenant_id     text REFERENCES tenants (id) ON DELETE CASCADE,
  kind          text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key    text UNIQUE,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL DEFAULT 5,
  run_at        timestamptz NOT NULL DEFAULT now(),
  locked_by     text,
  lease_until   timestamptz,
  last_error    text,
  result        jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
-- The claim scans queued jobs by due time and running ones by lease.
CREATE INDEX jobs_queued_idx ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE status = 'running';
