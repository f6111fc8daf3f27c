#!/usr/bin/env bash
# The first command on a fresh machine. Installs what is missing, builds,
# starts a throwaway local PostgreSQL (with the demo database analytics_db)
# and `secrethub server --dev`, writes the guide's read-only analytics role,
# issues one credential, proves it by logging in with psql, and leaves the
# server running with its address and admin token printed. Ctrl-C stops
# everything it started.
#
#   bash scripts/quickstart.sh [--port N] [--no-build] [--exit-after-demo]
#
# --port N            listen on 127.0.0.1:N (default 4000; 0 picks a free port)
# --no-build          use the existing binary ($SECRETHUB_BIN or build/secrethub)
# --exit-after-demo   stop everything after the login check (used by the tests)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=4000
build=1
stay=1
while (($#)); do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --exit-after-demo) stay=0; shift ;;
    *) echo "quickstart: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1mquickstart:\033[0m %s\n' "$*"; }

bash scripts/install-deps.sh
bin="${SECRETHUB_BIN:-build/secrethub}"
if ((build)); then
  say "building (first time: a few minutes on 2 cores)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target secrethub >/dev/null
  bin=build/secrethub
fi

pg_dir=""
server_pid=""
work=$(mktemp -d /tmp/secrethub-quickstart.XXXXXX)
cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [[ -n "$pg_dir" ]] && bash scripts/pg-throwaway.sh stop "$pg_dir" || true
  rm -rf "$work"
  if ((rc != 0 && rc != 130)); then
    echo "quickstart: failed (exit $rc)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_dir=$(bash scripts/pg-throwaway.sh start)
# shellcheck source=/dev/null
source "$pg_dir/env.sh"
bash scripts/pg-fixtures.sh >/dev/null
# shellcheck source=/dev/null
source "$pg_dir/env.sh"
say "PostgreSQL 15 on 127.0.0.1:$SECRETHUB_TEST_PG_PORT (throwaway, data in $pg_dir)"

"$bin" server --dev --listen "127.0.0.1:$port" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^SECRETHUB_TOKEN=' "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
addr=$(sed -n 's/^SECRETHUB_ADDR=//p' "$work/server.out")
token=$(sed -n 's/^SECRETHUB_TOKEN=//p' "$work/server.out")
[[ -n "$addr" && -n "$token" ]] || { cat "$work/server.log" >&2; exit 1; }
say "secrethub server --dev is listening on $addr"

# The guide's "Read-Only Analytics User", verbatim. Its dry run reports what
# PostgreSQL really does with it (README: use a group role instead).
jq -n --arg host 127.0.0.1 --argjson port "$SECRETHUB_TEST_PG_PORT" \
  --arg password "$SECRETHUB_TEST_PG_ADMIN_PASSWORD" '{
  host: $host, port: $port, database: "analytics_db",
  username: "secrethub_admin", password: $password, ssl: false,
  default_ttl: 3600, max_ttl: 86400,
  creation_statements: [
    "CREATE USER \"{{username}}\" WITH PASSWORD '"'"'{{password}}'"'"' VALID UNTIL '"'"'{{expiration}}'"'"';",
    "GRANT CONNECT ON DATABASE analytics_db TO \"{{username}}\";",
    "GRANT USAGE ON SCHEMA public TO \"{{username}}\";",
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{username}}\";",
    "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{{username}}\";"],
  revocation_statements: [
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"'"'{{username}}'"'"';",
    "DROP USER IF EXISTS \"{{username}}\";"]
}' >"$work/role.json"
curl -sS -X POST "$addr/v1/sys/roles/readonly-analytics" \
  -H "Content-Type: application/json" -H "X-Agent-Token: $token" \
  -d @"$work/role.json" >"$work/role.out"
say "wrote role readonly-analytics; its dry run says:"
jq -r '.warnings[]? // empty | "  - " + .' "$work/role.out"
if jq -e '.errors' "$work/role.out" >/dev/null; then
  jq . "$work/role.out" >&2
  exit 1
fi

curl -sS -X POST "$addr/v1/secrets/dynamic/readonly-analytics" \
  -H "Content-Type: application/json" -H "X-Agent-Token: $token" \
  -d '{"ttl": 3600, "metadata": {"purpose": "quickstart"}}' >"$work/creds.json"
user=$(jq -r '.credentials.username' "$work/creds.json")
pass=$(jq -r '.credentials.password' "$work/creds.json")
lease=$(jq -r '.lease_id' "$work/creds.json")
[[ "$user" == shub_* ]] || { jq . "$work/creds.json" >&2; exit 1; }
say "issued $user (lease $lease); logging in with psql:"
PGPASSWORD="$pass" psql -h 127.0.0.1 -p "$SECRETHUB_TEST_PG_PORT" -U "$user" -d analytics_db \
  -v ON_ERROR_STOP=1 -c "SELECT current_user, count(*) AS events FROM events;"

if ((stay == 0)); then
  say "demo done"
  exit 0
fi

cat <<TXT

SecretHub is running (dev mode: everything in memory). Try:

  export SECRETHUB_ADDR=$addr
  export SECRETHUB_TOKEN=$token

  curl -s \$SECRETHUB_ADDR/v1/sys/leases -H "X-Agent-Token: \$SECRETHUB_TOKEN" | jq
  curl -s -X POST \$SECRETHUB_ADDR/v1/secrets/dynamic/readonly-analytics \\
       -H "Content-Type: application/json" -H "X-Agent-Token: \$SECRETHUB_TOKEN" -d '{"ttl": 300}' | jq
  curl -s -X POST \$SECRETHUB_ADDR/v1/sys/leases/revoke -H "Content-Type: application/json" \\
       -H "X-Agent-Token: \$SECRETHUB_TOKEN" -d '{"lease_id": "$lease"}' | jq
  curl -s \$SECRETHUB_ADDR/v1/sys/leases/stats -H "X-Agent-Token: \$SECRETHUB_TOKEN" | jq
  psql -h 127.0.0.1 -p $SECRETHUB_TEST_PG_PORT -U postgres analytics_db   # password: $SECRETHUB_TEST_PG_SUPERPASS

Server log: $work/server.log. Ctrl-C stops the server and PostgreSQL.
TXT
wait "$server_pid"
