#!/usr/bin/env bash
# One command from a fresh Debian machine to a working demo: installs the
# dependencies, builds, starts a throwaway PostgreSQL with a demo database and
# group role, and runs the embedded lease engine against it with a demo role
# (examples/embed): a real database user is issued, renewed and revoked.
# The HTTP server (`secrethub server`) is not built yet; see README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2 --target secrethub secrethub_embed_example

pg_dir=$(bash scripts/pg-throwaway.sh start)
trap 'bash scripts/pg-throwaway.sh stop "$pg_dir"' EXIT
# shellcheck source=/dev/null
source "$pg_dir/env.sh"
bash scripts/pg-fixtures.sh >/dev/null
# shellcheck source=/dev/null
source "$pg_dir/env.sh"

echo "quickstart: throwaway PostgreSQL on 127.0.0.1:$SECRETHUB_TEST_PG_PORT"
build/secrethub_embed_example
