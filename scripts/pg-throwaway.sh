#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local experiments.
#
#   dir=$(scripts/pg-throwaway.sh start)   # prints the cluster's directory
#   source "$dir/env.sh"                   # SECRETHUB_TEST_PG_* variables
#   scripts/pg-throwaway.sh stop "$dir"    # stops it and removes the directory
#
# The cluster lives in a fresh `mktemp -d` directory under /tmp, runs as an
# unprivileged OS user (`postgres` when started as root; PostgreSQL refuses to
# run as root), listens on 127.0.0.1 only on a free port, keeps its unix socket
# inside the directory, and authenticates everything with scram-sha-256. The
# superuser `postgres` gets a random password. fsync is off: the data is
# disposable and speed matters more. The server log is <dir>/data/postgres.log.
set -euo pipefail

die() { echo "pg-throwaway: $*" >&2; exit 1; }

pg_bindir() {
  if [[ -n "${PG_BINDIR:-}" ]]; then echo "$PG_BINDIR"; return; fi
  if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then echo /usr/lib/postgresql/15/bin; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$d" && -x "$d/initdb" ]] || die "no PostgreSQL server binaries found (run scripts/install-deps.sh)"
  echo "$d"
}

# Runs a command as the cluster's OS user.
as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

random_secret() {
  # 24 random bytes as 32 URL-safe characters.
  head -c 24 /dev/urandom | base64 | tr '+/' '-_'
}

free_port() {
  if command -v python3 >/dev/null 2>&1 && python3 -c 'pass' 2>/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  # No python: probe random high ports until one refuses connections.
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

cmd_start() {
  local bindir dir data port superpass
  bindir=$(pg_bindir)
  if ((EUID == 0)) && ! getent passwd postgres >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi

  dir=$(mktemp -d /tmp/secrethub-pg.XXXXXXXX)
  data="$dir/data"
  mkdir -p "$dir/sock"
  superpass=$(random_secret)
  printf '%s\n' "$superpass" >"$dir/pwfile"
  chmod 600 "$dir/pwfile"
  if ((EUID == 0)); then
    chown -R postgres: "$dir"
  fi
  chmod 700 "$dir"

  # PostgreSQL tools complain when the current directory is unreadable to them.
  cd "$dir"
  if ! as_owner "$bindir/initdb" -D "$data" -U postgres --pwfile="$dir/pwfile" \
      --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  fi
  rm -f "$dir/pwfile"

  cat >"$data/pg_hba.conf" <<HBA
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
HBA

  local attempt started=0
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$data/postgresql.auto.conf" <<CONF
# Written by scripts/pg-throwaway.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
password_encryption = 'scram-sha-256'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
CONF
    if as_owner "$bindir/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start >/dev/null 2>&1; then
      started=1
      break
    fi
    echo "pg-throwaway: start on port $port failed (attempt $attempt)" >&2
  done
  if ((started == 0)); then
    tail -n 30 "$data/postgres.log" >&2 || true
    rm -rf "$dir"
    die "could not start PostgreSQL"
  fi

  local ready=0
  for _ in $(seq 1 100); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; then
      ready=1
      break
    fi
    sleep 0.1
  done
  if ((ready == 0)); then
    tail -n 30 "$data/postgres.log" >&2 || true
    cmd_stop "$dir"
    die "PostgreSQL did not become ready"
  fi

  cat >"$dir/env.sh" <<ENV
export SECRETHUB_TEST_PG_DIR='$dir'
export SECRETHUB_TEST_PG_HOST=127.0.0.1
export SECRETHUB_TEST_PG_PORT=$port
export SECRETHUB_TEST_PG_SUPERUSER=postgres
export SECRETHUB_TEST_PG_SUPERPASS='$superpass'
export SECRETHUB_TEST_PG_DSN='host=127.0.0.1 port=$port dbname=postgres user=postgres password=$superpass'
ENV
  chmod 600 "$dir/env.sh"
  echo "$dir"
}

cmd_stop() {
  local dir=${1:-}
  [[ -n "$dir" && -d "$dir" ]] || return 0
  # Refuse to remove anything that is not one of our clusters.
  [[ "$dir" == /tmp/secrethub-pg.* ]] || die "refusing to remove $dir"
  local bindir
  bindir=$(pg_bindir)
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1) || {
      local pid
      pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
      if [[ -n "$pid" ]]; then
        kill -9 "$pid" 2>/dev/null || true
      fi
    }
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
