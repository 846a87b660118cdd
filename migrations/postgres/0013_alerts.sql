-- Metric alerts (src/reports/alerts.ts): a rule is a report source + a condition, evaluated when the
-- data behind it changes (next_eval_at set to now by the change signals) and every
-- interval_seconds as a fallback. One state per rule and dimension value; every firing/resolved
-- transition is an event (the history) whose notification is one job.

CREATE TABLE alert_rules (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  owner            text NOT NULL,
  name             text NOT NULL,
  source           jsonb NOT NULL,
  condition        jsonb NOT NULL,
  -- fire only after the condition held this many evaluations in a row
  consecutive      integer NOT NULL DEFAULT 1,
  destinations     jsonb NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  -- the cubes the query reads: a change signal for one of them makes the rule due now
  cubes            jsonb NOT NULL DEFAULT '[]',
  interval_seconds integer NOT NULL,
  next_eval_at     timestamptz NOT NULL,
  -- when the evaluation whose outcome was last applied started (an older one is not applied)
  applied_started  timestamptz,
  run_as           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_due_idx ON alert_rules (next_eval_at) WHERE enabled;
CREATE INDEX alert_rules_tenant_idx ON alert_rules (tenant_id);

CREATE TABLE alert_states (
  rule_id      uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  tenant_id    text NOT NULL,
  -- JSON of the row's dimension values ("[]" for a rule without dimensions)
  key          text NOT NULL,
  dimensions   jsonb NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'firing', 'resolved')),
  streak       integer NOT NULL DEFAULT 0,
  value        double precision,
  since        timestamptz NOT NULL DEFAULT now(),
  evaluated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule_id, key)
);

CREATE TABLE alert_events (
  id          uuid PRIMARY KEY,
  tenant_id   text NOT NULL,
  rule_id     uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  key         text NOT NULL,
  dimensions  jsonb NOT NULL,
  event       text NOT NULL CHECK (event IN ('firing', 'resolved')),
  value       double precision,
  at          timestamptz NOT NULL DEFAULT now(),
  deliveries  jsonb
);
CREATE INDEX alert_events_rule_idx ON alert_events (tenant_id, rule_id, at);
