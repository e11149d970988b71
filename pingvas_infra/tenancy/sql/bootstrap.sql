-- The schema of ONE environment, inside that environment's own database; idempotent,
-- safe to run any number of times.
--
-- The schema-bootstrap Job (bootstrap.sh, beside this file) runs database.sql first (the
-- role and the database), then this file connected to the environment's database, as the
-- Aurora master user. On RDS that user is NOT a superuser: it is a member of
-- rds_superuser, owns the databases and has CREATEROLE and CREATEDB. Nothing here needs
-- more than that. The test suite runs both files, twice, as such a non-superuser against a
-- real PostgreSQL server.
--
-- psql variables (psql --set name=value):
--   role      the environment's login role, e.g. dev_user
--   schema    the environment's schema, e.g. dev_pingvas

\set ON_ERROR_STOP on

-- The schema belongs to the admin, not to the role: the role may use it and create in it,
-- but can neither drop it nor grant it to anyone.
CREATE SCHEMA IF NOT EXISTS :"schema";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA :"schema" TO :"role";

-- What the admin creates in the schema (say, a migration run as the master user) is the
-- role's to use. What the role creates there is its own anyway.
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema"
  GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema"
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"role";
ALTER DEFAULT PRIVILEGES IN SCHEMA :"schema"
  GRANT EXECUTE ON FUNCTIONS TO :"role";

-- Unqualified names resolve in the role's own schema, and only there.
ALTER ROLE :"role" SET search_path = :"schema";

-- The public schema is no one's to create in. PostgreSQL 15 and later start that way; a
-- cluster upgraded from an older major keeps the old grant to PUBLIC until it is revoked.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
