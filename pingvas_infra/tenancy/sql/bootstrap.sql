-- Schema separation for ONE environment; idempotent, safe to run any number of times.
--
-- The schema-bootstrap Job (bootstrap.sh, beside this file) runs it once per environment,
-- connected to the application database as the Aurora master user. On RDS that user is NOT
-- a superuser: it is a member of rds_superuser, owns the database and has CREATEROLE.
-- Nothing below needs more than that. The test suite runs this same file, twice, as such a
-- non-superuser against a real PostgreSQL server.
--
-- psql variables (psql --set name=value):
--   role      the environment's login role, e.g. dev_user
--   schema    the environment's schema, e.g. dev_pingvas
--   password  the role's password as a SCRAM-SHA-256 verifier ("SCRAM-SHA-256$4096:...").
--             PostgreSQL stores a verifier as given; sending it instead of the password
--             keeps the password out of the server log (log_statement = ddl logs every
--             ALTER ROLE with its text).
-- psql leaves an unset variable in the text, where it fails as a syntax error: a missing
-- password stops the run instead of setting a wrong one.

\set ON_ERROR_STOP on

-- The role: created when missing (CREATE ROLE has no IF NOT EXISTS), then brought to the
-- wanted state by ALTER ROLE, so a rerun also applies a changed password.
SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';

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

-- The database: only the roles granted here connect (PUBLIC has CONNECT and TEMPORARY on
-- every new database).
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role')
\gexec

-- The public schema is no one's to create in. PostgreSQL 15 and later start that way; a
-- cluster upgraded from an older major keeps the old grant to PUBLIC until it is revoked.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
