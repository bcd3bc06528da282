import type { PostgresSchema } from '../../engine/index.ts';

/**
 * The App's tables on PostgreSQL, forward-only, run by the engine's one migration runner
 * (`openPostgresPool`) under their own version table. They live beside the engine's, the API's
 * and the schedules' tables in one database, so they are prefixed `app_` (the engine has its
 * own `runs`). Columns are the SQLite store's (store/sqlite-app-store.ts), so store/app-rows.ts
 * maps both. Attestations get a sequence for "newest first" where SQLite uses its rowid.
 * Deliveries are ingress's (ingress/postgres-delivery-store.ts), versioned on their own.
 */
export const appSchema: PostgresSchema = {
  table: 'app_schema_migrations',
  migrations: [
    {
      version: 1,
      sql: `
CREATE TABLE app_check_runs (
  external_id text PRIMARY KEY,
  check_run_id bigint NOT NULL
);
CREATE TABLE app_plan_digests (
  repo text NOT NULL,
  sha text NOT NULL,
  digests text NOT NULL,
  PRIMARY KEY (repo, sha)
);
CREATE TABLE app_runs (
  run_id text PRIMARY KEY,
  repo text NOT NULL,
  installation_id bigint NOT NULL,
  workflow text NOT NULL,
  head_sha text NOT NULL,
  external_id text NOT NULL,
  from_fork integer NOT NULL,
  pull_request integer,
  gated integer NOT NULL DEFAULT 0
);
CREATE TABLE app_dispatches (
  key text NOT NULL,
  workflow text NOT NULL,
  run_id text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (key, workflow)
);
CREATE TABLE app_approval_attestations (
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  digest text PRIMARY KEY,
  repo text NOT NULL,
  workflow text NOT NULL,
  plan_digest text NOT NULL,
  pull_request integer NOT NULL,
  head_sha text NOT NULL,
  base_sha text NOT NULL,
  bundle text NOT NULL,
  approvers text NOT NULL,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  supersedes text,
  revoked_at bigint,
  revoked_reason text
);
CREATE INDEX app_approval_attestations_head ON app_approval_attestations (repo, workflow, head_sha, pull_request);
CREATE INDEX app_approval_attestations_pull ON app_approval_attestations (repo, pull_request);
-- Attestations are revoked, never deleted; a revocation is never undone, even by direct SQL.
CREATE FUNCTION app_attestations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'approval attestations are revoked, never deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.revoked_at IS NOT NULL
     OR ROW(NEW.digest, NEW.repo, NEW.workflow, NEW.plan_digest, NEW.pull_request, NEW.head_sha, NEW.base_sha,
            NEW.bundle, NEW.approvers, NEW.issued_at, NEW.expires_at, NEW.supersedes)
        IS DISTINCT FROM
        ROW(OLD.digest, OLD.repo, OLD.workflow, OLD.plan_digest, OLD.pull_request, OLD.head_sha, OLD.base_sha,
            OLD.bundle, OLD.approvers, OLD.issued_at, OLD.expires_at, OLD.supersedes) THEN
    RAISE EXCEPTION 'an approval attestation only gains its revocation' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER app_attestations_guard BEFORE UPDATE OR DELETE ON app_approval_attestations
  FOR EACH ROW EXECUTE FUNCTION app_attestations_guard();
CREATE TABLE app_pushers (
  repo text NOT NULL,
  sha text NOT NULL,
  login text NOT NULL,
  PRIMARY KEY (repo, sha, login)
);
`,
    },
  ],
};
