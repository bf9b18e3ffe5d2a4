-- zoomadmin on PostgreSQL: the application's role may read and append audit rows, never
-- change or remove them (README, "The audit log as evidence").
--
-- Two roles: the OWNER owns the tables and runs `manage.py migrate`; its password stays
-- with the database administrators. The APP role is what the dashboard and the worker log
-- in as (their DATABASE_URL). Create them once, for example:
--   CREATE ROLE zoomadmin_owner LOGIN PASSWORD '...';
--   CREATE ROLE zoomadmin_app LOGIN PASSWORD '...';
--   ALTER DATABASE zoomadmin OWNER TO zoomadmin_owner;   -- or GRANT CREATE ON SCHEMA public
-- then, after `migrate` has run as the owner, run this file as a superuser or the owner:
--   psql -v app_role=zoomadmin_app -v owner_role=zoomadmin_owner -v schema=public \
--        -d zoomadmin -f zoomadmin/audit/sql/app_role_privileges.sql
-- (`manage.py audit_privileges --app-role ... --owner-role ...` prints the same SQL with
-- the names filled in). Run it again after every release whose migrations add tables.
-- `manage.py audit_privileges --check`, run with the app's DATABASE_URL, confirms it.

BEGIN;

-- The app reaches the schema but creates nothing in it.
GRANT USAGE ON SCHEMA :"schema" TO :"app_role";
REVOKE CREATE ON SCHEMA :"schema" FROM :"app_role";

-- Every other table: rows may be read and written (sessions, tokens, tasks, ...).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app_role";

-- The audit table: SELECT and INSERT only. No UPDATE, DELETE or TRUNCATE, no TRIGGER
-- (which would allow disabling the append-only triggers), no REFERENCES.
REVOKE ALL ON TABLE :"schema".audit_auditevent FROM PUBLIC;
REVOKE ALL ON TABLE :"schema".audit_auditevent FROM :"app_role";
GRANT SELECT, INSERT ON TABLE :"schema".audit_auditevent TO :"app_role";
-- New ids come from nextval() (USAGE); SELECT reads it; no UPDATE, so no setval().
REVOKE ALL ON SEQUENCE :"schema".audit_auditevent_id_seq FROM PUBLIC;
REVOKE ALL ON SEQUENCE :"schema".audit_auditevent_id_seq FROM :"app_role";
GRANT USAGE, SELECT ON SEQUENCE :"schema".audit_auditevent_id_seq TO :"app_role";

-- Tables that later migrations create (as the owner) get the ordinary row privileges.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema"
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner_role" IN SCHEMA :"schema"
    GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";

COMMIT;
