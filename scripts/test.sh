#!/usr/bin/env bash
# THE test command (CI runs exactly `bash scripts/test.sh`):
#   1. installs the Debian packages (scripts/install-deps.sh, quiet when present),
#   2. configures and builds into build/ (RelWithDebInfo, -j2: 2 cores),
#   3. starts a throwaway PostgreSQL (scripts/pg-throwaway.sh) and creates the
#      fixture objects (scripts/pg-fixtures.sh documents them), and a
#      throwaway Redis (scripts/redis-throwaway.sh documents its ACL users),
#   4. runs ctest with the SECRETHUB_TEST_PG_* and SECRETHUB_TEST_REDIS_*
#      environment exported,
#   5. stops the servers and removes their directories on exit, even on failure.
# Arguments go to ctest, e.g. `bash scripts/test.sh -R engines`.
# Environment: SECRETHUB_SANITIZE=address,undefined builds with sanitizers;
# SECRETHUB_CMAKE_ARGS adds configure arguments. Exit code: ctest's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DSECRETHUB_SANITIZE=${SECRETHUB_SANITIZE:-}")
if [[ -n "${SECRETHUB_CMAKE_ARGS:-}" ]]; then
  read -r -a extra_cmake_args <<<"$SECRETHUB_CMAKE_ARGS"
  cmake_args+=("${extra_cmake_args[@]}")
fi
cmake -S . -B build "${cmake_args[@]}"
cmake --build build -j2

pg_dir=""
redis_dir=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if [[ -n "$redis_dir" ]]; then
    if ((rc != 0)) && [[ -f "$redis_dir/redis.log" ]]; then
      echo "---- Redis log (last 30 lines) ----" >&2
      tail -n 30 "$redis_dir/redis.log" >&2 || true
      echo "-----------------------------------" >&2
    fi
    bash scripts/redis-throwaway.sh stop "$redis_dir" || true
  fi
  if [[ -n "$pg_dir" ]]; then
    if ((rc != 0)) && [[ -f "$pg_dir/data/postgres.log" ]]; then
      echo "---- PostgreSQL log (last 60 lines) ----" >&2
      tail -n 60 "$pg_dir/data/postgres.log" >&2 || true
      echo "----------------------------------------" >&2
    fi
    bash scripts/pg-throwaway.sh stop "$pg_dir" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_dir=$(bash scripts/pg-throwaway.sh start)
# shellcheck source=/dev/null
source "$pg_dir/env.sh"
bash scripts/pg-fixtures.sh >/dev/null  # appends the admin password to env.sh
# shellcheck source=/dev/null
source "$pg_dir/env.sh"
echo "test.sh: throwaway PostgreSQL on 127.0.0.1:$SECRETHUB_TEST_PG_PORT ($pg_dir)"
redis_dir=$(bash scripts/redis-throwaway.sh start)
# shellcheck source=/dev/null
source "$redis_dir/env.sh"
echo "test.sh: throwaway Redis on 127.0.0.1:$SECRETHUB_TEST_REDIS_PORT (TLS $SECRETHUB_TEST_REDIS_TLS_PORT) ($redis_dir)"

set +e
ctest --test-dir build --output-on-failure -j2 "$@"
rc=$?
set -e
exit "$rc"
