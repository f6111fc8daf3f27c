#!/usr/bin/env bash
# A throwaway Redis server for tests and local experiments.
#
#   dir=$(scripts/redis-throwaway.sh start)   # prints the server's directory
#   source "$dir/env.sh"                      # SECRETHUB_TEST_REDIS_* variables
#   scripts/redis-throwaway.sh stop "$dir"    # stops it and removes the directory
#
# The server lives in a fresh `mktemp -d` directory under /tmp, listens on
# 127.0.0.1 only: plain TCP on one free port and TLS on another (a fresh
# self-signed certificate for IP 127.0.0.1, <dir>/tls/cert.pem, which is also
# the CA to trust; no client certificates), keeps nothing (`save ""`,
# `appendonly no`), and runs as the `redis` OS user when started as root and
# that user exists. Its log is <dir>/redis.log.
#
# ACL users (the `default` user is disabled):
# - secrethub_admin: exactly what the Redis engine needs:
#   -@all +acl|setuser +acl|deluser +acl|getuser +acl|dryrun +client|kill
# - secrethub_fixture: everything (+@all ~* &*), for tests to write keys and
#   inspect the server. Never give SecretHub this one.
#
# env.sh exports SECRETHUB_TEST_REDIS_{DIR,HOST,PORT,TLS_PORT,TLS_CA,
# ADMIN_USER,ADMIN_PASSWORD,SUPERUSER,SUPERPASS}.
set -euo pipefail

die() { echo "redis-throwaway: $*" >&2; exit 1; }

server_user() {
  if ((EUID == 0)) && getent passwd redis >/dev/null; then
    echo redis
  fi
}

# Runs a command as the server's OS user.
as_owner() {
  local user
  user=$(server_user)
  if [[ -n "$user" ]]; then
    runuser -u "$user" -- "$@"
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
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
  command -v openssl >/dev/null || die "openssl not found (run scripts/install-deps.sh)"
  local dir admin_pass super_pass port tls_port user
  dir=$(mktemp -d /tmp/secrethub-redis.XXXXXXXX)
  chmod 700 "$dir"
  admin_pass=$(random_secret)
  super_pass=$(random_secret)

  mkdir -p "$dir/tls"
  if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" -days 2 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1 >"$dir/openssl.log" 2>&1; then
    cat "$dir/openssl.log" >&2
    rm -rf "$dir"
    die "could not make the TLS certificate"
  fi
  chmod 644 "$dir/tls/cert.pem"
  chmod 600 "$dir/tls/key.pem"

  user=$(server_user)
  local started=0 attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    tls_port=$(free_port)
    [[ "$port" != "$tls_port" ]] || continue
    cat >"$dir/redis.conf" <<CONF
# Written by scripts/redis-throwaway.sh
bind 127.0.0.1
protected-mode yes
port $port
tls-port $tls_port
tls-cert-file $dir/tls/cert.pem
tls-key-file $dir/tls/key.pem
tls-auth-clients no
save ""
appendonly no
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
user default off
user secrethub_admin on >$admin_pass -@all +acl|setuser +acl|deluser +acl|getuser +acl|dryrun +client|kill
user secrethub_fixture on >$super_pass ~* &* +@all
CONF
    chmod 600 "$dir/redis.conf"
    if [[ -n "$user" ]]; then
      chown -R "$user:" "$dir"
    fi
    rm -f "$dir/redis.pid"
    if (cd "$dir" && as_owner redis-server "$dir/redis.conf"); then
      local ready=0
      for _ in $(seq 1 100); do
        if REDISCLI_AUTH="$super_pass" redis-cli -h 127.0.0.1 -p "$port" --user secrethub_fixture \
            PING 2>/dev/null | grep -q PONG; then
          ready=1
          break
        fi
        sleep 0.1
      done
      if ((ready == 1)); then
        started=1
        break
      fi
      cmd_kill "$dir"
    fi
    echo "redis-throwaway: start on ports $port/$tls_port failed (attempt $attempt)" >&2
  done
  if ((started == 0)); then
    tail -n 30 "$dir/redis.log" >&2 || true
    rm -rf "$dir"
    die "could not start redis-server"
  fi

  cat >"$dir/env.sh" <<ENV
export SECRETHUB_TEST_REDIS_DIR='$dir'
export SECRETHUB_TEST_REDIS_HOST=127.0.0.1
export SECRETHUB_TEST_REDIS_PORT=$port
export SECRETHUB_TEST_REDIS_TLS_PORT=$tls_port
export SECRETHUB_TEST_REDIS_TLS_CA='$dir/tls/cert.pem'
export SECRETHUB_TEST_REDIS_ADMIN_USER=secrethub_admin
export SECRETHUB_TEST_REDIS_ADMIN_PASSWORD='$admin_pass'
export SECRETHUB_TEST_REDIS_SUPERUSER=secrethub_fixture
export SECRETHUB_TEST_REDIS_SUPERPASS='$super_pass'
ENV
  chmod 600 "$dir/env.sh"
  echo "$dir"
}

# Stops the server of `dir` (SIGTERM, then SIGKILL after 10 s).
cmd_kill() {
  local dir=$1 pid
  [[ -f "$dir/redis.pid" ]] || return 0
  pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_stop() {
  local dir=${1:-}
  [[ -n "$dir" && -d "$dir" ]] || return 0
  # Refuse to remove anything that is not one of our servers.
  [[ "$dir" == /tmp/secrethub-redis.* ]] || die "refusing to remove $dir"
  cmd_kill "$dir"
  rm -rf "$dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
