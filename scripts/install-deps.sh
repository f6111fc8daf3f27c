#!/usr/bin/env bash
# Installs the Debian packages SecretHub builds and tests with. Idempotent and
# quiet when everything is present: dpkg-query decides, and `apt-get update`
# runs only when something is missing. Works as root (CI) or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev libpq-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev
  libboost-test-dev libsqlite3-dev
  postgresql postgresql-client
  libspdlog-dev libcli11-dev libtomlplusplus-dev
  curl jq openssl prometheus
  redis-server libhiredis-dev
  gnuplot-nox
  chromium
)
# Node.js runs the browser tests (tests/ui); any recent one will do, so
# Debian's is installed only when none is on the PATH.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID == 0)); then
  as_root=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
else
  echo "install-deps: missing packages (${missing[*]}) and neither root nor sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
