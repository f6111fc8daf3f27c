#!/usr/bin/env bash
# Creates the objects the integration tests expect in a throwaway cluster
# (scripts/pg-throwaway.sh). Reads SECRETHUB_TEST_PG_{HOST,PORT,SUPERUSER,
# SUPERPASS}; appends SECRETHUB_TEST_PG_ADMIN_PASSWORD to $SECRETHUB_TEST_PG_DIR/env.sh
# and prints its export line.
#
# Fixture objects:
# - role secrethub_admin: LOGIN, CREATEROLE, random password, member of
#   pg_signal_backend (so it can end sessions of revoked users). Not a
#   superuser: the tests run the engine the way the guide's appendix sets it up.
# - database analytics_db with public.events, public.users (a few rows each)
#   and the sequence public.report_seq.
# - group role analytics_readers (NOLOGIN): CONNECT on analytics_db, USAGE on
#   public, SELECT on all its tables and sequences. Generated users join it
#   with `IN ROLE analytics_readers`.
# - secrethub_admin holds, WITH GRANT OPTION, what the guide's direct-grant
#   example roles hand out: SELECT, INSERT, UPDATE, DELETE on all tables in
#   public, SELECT and USAGE on its sequences, CONNECT on analytics_db and
#   USAGE on schema public (the guide's appendix lists only the tables; its own
#   example role grants the others too). And it holds analytics_readers WITH
#   ADMIN OPTION so it can put users into the group (needed from PG16 on).
set -euo pipefail

: "${SECRETHUB_TEST_PG_HOST:?source the env.sh of scripts/pg-throwaway.sh first}"
: "${SECRETHUB_TEST_PG_PORT:?}"
: "${SECRETHUB_TEST_PG_SUPERPASS:?}"

admin_pass=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')

psql_as_super() {
  PGPASSWORD="$SECRETHUB_TEST_PG_SUPERPASS" psql -X -q -v ON_ERROR_STOP=1 \
    -h "$SECRETHUB_TEST_PG_HOST" -p "$SECRETHUB_TEST_PG_PORT" \
    -U "${SECRETHUB_TEST_PG_SUPERUSER:-postgres}" "$@"
}

psql_as_super -d postgres -v admin_pass="$admin_pass" >/dev/null <<'SQL'
CREATE ROLE secrethub_admin LOGIN CREATEROLE PASSWORD :'admin_pass';
GRANT pg_signal_backend TO secrethub_admin;
CREATE ROLE analytics_readers NOLOGIN;
GRANT analytics_readers TO secrethub_admin WITH ADMIN OPTION;
CREATE DATABASE analytics_db;
SQL

psql_as_super -d analytics_db >/dev/null <<'SQL'
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  name text NOT NULL
);
CREATE SEQUENCE report_seq;
INSERT INTO events (kind) VALUES ('login'), ('query'), ('logout');
INSERT INTO users (name) VALUES ('ada'), ('grace'), ('linus');

GRANT CONNECT ON DATABASE analytics_db TO analytics_readers;
GRANT USAGE ON SCHEMA public TO analytics_readers;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO analytics_readers;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO analytics_readers;

GRANT CONNECT ON DATABASE analytics_db TO secrethub_admin WITH GRANT OPTION;
GRANT USAGE ON SCHEMA public TO secrethub_admin WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO secrethub_admin WITH GRANT OPTION;
GRANT SELECT, USAGE ON ALL SEQUENCES IN SCHEMA public TO secrethub_admin WITH GRANT OPTION;
SQL

line="export SECRETHUB_TEST_PG_ADMIN_PASSWORD='$admin_pass'"
if [[ -n "${SECRETHUB_TEST_PG_DIR:-}" && -f "$SECRETHUB_TEST_PG_DIR/env.sh" ]]; then
  echo "$line" >>"$SECRETHUB_TEST_PG_DIR/env.sh"
fi
echo "$line"
