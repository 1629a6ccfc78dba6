#!/usr/bin/env bash
# Install what Dolbom needs on a Debian/Ubuntu machine and make sure the services run.
# Idempotent: it installs only what is missing and starts only what is stopped.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PY="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need_apt+=(postgresql postgresql-client)
"$PY" -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
# The broker's identity plugin (deploy/mosquitto/plugin) is compiled by its tests and deploys.
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || need_apt+=(make)
[ -f /usr/include/mosquitto_broker.h ] || need_apt+=(mosquitto-dev)
[ -f /usr/include/mosquitto.h ] || need_apt+=(libmosquitto-dev)
if [ "${DOLBOM_BROWSER_TESTS:-1}" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# PostgreSQL: start the cluster if it is not answering.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "bootstrap: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO service postgresql start
  else
    $SUDO service postgresql start
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# Trust or password auth for the local postgres role is expected (see README, Configuration).
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; then
  echo "bootstrap: cannot log in as postgres on 127.0.0.1; set DOLBOM_DATABASE_URL and DOLBOM_TEST_ADMIN_URL" >&2
fi

# Mosquitto on 1883: start it if nothing listens.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "bootstrap: starting Mosquitto"
  if [ -f /etc/mosquitto/mosquitto.conf ]; then
    $SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf || $SUDO service mosquitto start
  else
    $SUDO service mosquitto start
  fi
fi

# Python environment.
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q -e ".[dev]"
echo "bootstrap: ready ($VENV)"
