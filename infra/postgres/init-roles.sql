-- Two roles for one AdFactory database (run once, as a superuser, with psql):
--   owner_role  owns the schema and every table; migrations run as it (DATABASE_MIGRATE_URL).
--   app_role    what web/workers/beat connect as (DATABASE_URL): NOSUPERUSER NOBYPASSRLS,
--               owns nothing, so row-level security always binds it; it gets only DML,
--               through the owner's default privileges, on every table migrations create.
-- psql variables: owner_role, app_role, owner_password, app_password, dbname. E.g.
--   psql -v ON_ERROR_STOP=1 -v owner_role=adfactory_owner -v app_role=adfactory_app \
--        -v owner_password=... -v app_password=... -v dbname=adfactory -d adfactory -f init-roles.sql
-- The app refuses to start when its role could bypass RLS (tenancy/dbrole.py).
\set ON_ERROR_STOP on

CREATE ROLE :"owner_role" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE :"app_role" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';

ALTER DATABASE :"dbname" OWNER TO :"owner_role";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"app_role";

\connect :"dbname"
ALTER SCHEMA public OWNER TO :"owner_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app_role";

-- Tables and sequences the owner creates later (every migration) are usable by the app role.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
-- And any that already exist (re-running after a restore).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
