-- One environment's role and database; idempotent, safe to run any number of times.
--
-- bootstrap.sh runs it as the Aurora master user, connected to the cluster's initial
-- database (where only the master user connects), then runs bootstrap.sql inside the
-- environment's own database. Not in one transaction: CREATE DATABASE cannot run in one.
--
-- Each environment has a database of its own in the shared cluster: catalogs (pg_class,
-- pg_namespace, pg_attribute: every table and column name), LISTEN/NOTIFY channels, large
-- objects and advisory locks are per database in PostgreSQL, so dev can neither read
-- prod's table names nor listen to its notifications, and costs nothing more than a
-- schema. What stays cluster-wide (role and database names, sessions in
-- pg_stat_activity, connection slots) is bounded or accepted in docs/boundary.md.
--
-- psql variables (psql --set name=value):
--   role               the environment's login role, e.g. dev_user
--   password           its SCRAM-SHA-256 verifier (the password never reaches the log)
--   database           the environment's database, e.g. pingvas_saas_dev
--   connection_limit   the role's connection slots (-1: no limit of its own)
--   statement_timeout  the role's default statement timeout ('0': none)
--   idle_timeout       the role's default idle_in_transaction_session_timeout ('0': none)
-- A connection limit is enforced by the server; the two timeouts are the role's defaults,
-- which a session may change (they stop runaway queries, not a determined client).
-- psql leaves an unset variable in the text, where it fails as a syntax error.

\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password' CONNECTION LIMIT :connection_limit;
ALTER ROLE :"role" SET statement_timeout = :'statement_timeout';
ALTER ROLE :"role" SET idle_in_transaction_session_timeout = :'idle_timeout';

-- The database belongs to the master user; the role may only connect (PUBLIC has
-- CONNECT and TEMPORARY on every new database until revoked). Copied from template0,
-- which no one can connect to: CREATE DATABASE fails while any session sits in its
-- template, and template1 is open to every role unless revoked below.
SELECT format('CREATE DATABASE %I TEMPLATE template0', :'database')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'database')
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database')
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'database', :'role')
\gexec

-- The initial database is the master user's alone: no environment's schema lives there,
-- and neither environment's role may connect to it.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), :'role')
\gexec

-- The databases every PostgreSQL cluster starts with: PUBLIC may connect to them (and
-- create temporary tables in postgres), so any role could sit in template1 or fill temp
-- space there. Revoked where the user running this holds their owner's privileges: only
-- the owner (or a superuser) takes back what PUBLIC was granted. Where another role owns
-- them (a managed service's own administrator), they are left as they are: PostgreSQL
-- would only warn, or fail outright for a user without any privilege there
-- (docs/boundary.md, dev_user).
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
  FROM pg_catalog.pg_database
 WHERE datname IN ('postgres', 'template1')
   AND pg_catalog.pg_has_role(datdba, 'USAGE')
\gexec
