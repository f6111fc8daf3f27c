#!/usr/bin/env bash
# The full benchmark run behind bench/RESULTS.md: every scenario at the sizes
# issue 7 names, one after the other (so they do not disturb each other).
#
#   bash bench/run-full.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR defaults to build/ (scripts/test.sh builds it), OUT_DIR to
# bench/results/. Each scenario writes OUT_DIR/<name>.md (its tables, as
# printed), OUT_DIR/<name>.json and its charts (SVG + data + gnuplot script)
# into OUT_DIR/plots/. PostgreSQL: SECRETHUB_BENCH_PG (an admin DSN) if set,
# else the harness starts its own throwaway cluster. Takes about 30 minutes
# on 2 cores.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
out=${2:-bench/results}
bench="$build/bench/secrethub-bench"
[[ -x "$bench" ]] || { echo "run-full: $bench not built (bash scripts/test.sh builds it)" >&2; exit 1; }
mkdir -p "$out/plots"

pg_args=()
if [[ -n "${SECRETHUB_BENCH_PG:-}" ]]; then
  pg_args=(--pg "$SECRETHUB_BENCH_PG")
fi

# A scenario that misses a goal exits 1: that is a result, not a reason to
# stop. RESUME=1 skips scenarios whose results are already in OUT_DIR.
failed=()
run() {
  local name=$1
  shift
  if [[ "${RESUME:-0}" == 1 && -s "$out/$name.json" ]]; then
    echo "run-full: $name: kept from an earlier run" >&2
    return
  fi
  echo "run-full: $name: $*" >&2
  local started=$SECONDS rc=0
  "$bench" "${pg_args[@]}" --json "$out/$name.json" --plot "$out/plots" "$@" >"$out/$name.md" || rc=$?
  cat "$out/$name.md"
  echo "run-full: $name took $((SECONDS - started)) s (exit $rc)" >&2
  if ((rc != 0)); then
    failed+=("$name")
  fi
}

# 1. issue: group role at 1/8/32 requesters, full stack (SQLite store) vs raw
#    libpq vs HTTP; then the password formats at 8; then the guide's
#    direct-grant role until PostgreSQL refuses.
run issue-group issue --engine postgresql --count 10000 --concurrency 1,8,32 --store sqlite \
  --roles group --passwords scram-16 --rounds 2
run issue-passwords issue --engine postgresql --count 10000 --concurrency 8 --store sqlite \
  --roles group --passwords plain,scram-4096,scram-16 --rounds 1
run issue-direct issue --engine postgresql --count 10000 --concurrency 8 --store sqlite \
  --roles direct --passwords scram-16 --rounds 1 --no-http
# 2. scale: null engine, 100k and 1M leases.
run scale scale --leases 100000,1000000
# 3. expire: 10,000 real users expiring within one second.
run expire expire --count 10000
# 4. restart: 100k and 1M stored leases.
run restart-100k restart --leases 100000 --store sqlite,postgresql
run restart-1m restart --leases 1000000 --store sqlite
# 5. http: lookup and renew at 1/8/64 connections.
run http http

echo "run-full: done; tables in $out/*.md, charts in $out/plots/" >&2
if ((${#failed[@]} > 0)); then
  echo "run-full: goals missed or runs incomplete in: ${failed[*]} (see their tables)" >&2
fi
