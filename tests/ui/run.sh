#!/usr/bin/env bash
# Browser tests of the admin UI (CTest `ui.browser`): starts the real
# `secrethub server` ($SECRETHUB_BIN) on a free port with a temporary SQLite
# store and audit log, then drives Debian's Chromium (/usr/bin/chromium,
# headless) with playwright-core through tests/ui/admin_ui.test.mjs against the
# throwaway PostgreSQL that scripts/test.sh exports
# (SECRETHUB_TEST_PG_HOST/PORT/ADMIN_PASSWORD, fixtures of scripts/pg-fixtures.sh).
#
# Screenshots of every page go to $SECRETHUB_UI_ARTIFACTS (default
# ./test-artifacts/ui), printed at the end. node_modules are installed into
# tests/ui/ from package-lock.json when missing (npm ci).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${SECRETHUB_BIN:?set SECRETHUB_BIN to the secrethub binary}"
for v in SECRETHUB_TEST_PG_HOST SECRETHUB_TEST_PG_PORT SECRETHUB_TEST_PG_ADMIN_PASSWORD; do
  if [[ -z "${!v:-}" ]]; then
    echo "ui: $v is not set: run through scripts/test.sh (it starts the throwaway PostgreSQL)" >&2
    exit 1
  fi
done
chromium_bin="${SECRETHUB_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium_bin" ]]; then
  echo "ui: no Chromium at $chromium_bin (scripts/install-deps.sh installs Debian's chromium)" >&2
  exit 1
fi

artifacts="${SECRETHUB_UI_ARTIFACTS:-$PWD/test-artifacts/ui}"
mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"
rm -f "$artifacts"/*.png

# playwright-core, exactly as locked.
if [[ ! -f "$here/node_modules/playwright-core/package.json" ||
      "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  echo "ui: installing node modules (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

work="$(mktemp -d /tmp/secrethub-ui.XXXXXX)"
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -f "$work/server.log" ]]; then
    echo "---- secrethub server log (last 40 lines) ----" >&2
    tail -n 40 "$work/server.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

admin_token="ui-admin-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
master_key="$("$SECRETHUB_BIN" keygen)"
SECRETHUB_ADMIN_TOKEN="$admin_token" SECRETHUB_MASTER_KEY="$master_key" \
  "$SECRETHUB_BIN" server --listen 127.0.0.1:0 --data-dir "$work/data" \
  --audit-file "$work/audit.log" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!

addr=""
for _ in $(seq 1 200); do
  addr="$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" 2>/dev/null | head -n1 | sed 's/^listening on //')" || true
  [[ -n "$addr" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "ui: the server exited before listening" >&2
    exit 1
  fi
  sleep 0.05
done
if [[ -z "$addr" ]]; then
  echo "ui: the server did not start listening within 10 s" >&2
  exit 1
fi
echo "ui: secrethub server at $addr (pid $server_pid)" >&2

SECRETHUB_ADDR="$addr" SECRETHUB_ADMIN_TOKEN="$admin_token" SECRETHUB_UI_ARTIFACTS="$artifacts" \
  SECRETHUB_CHROMIUM="$chromium_bin" \
  node "$here/admin_ui.test.mjs"

echo "ui: screenshots in $artifacts:"
ls -1 "$artifacts"
