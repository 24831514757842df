#!/usr/bin/env bash
# Installs Debian's chromium package (/usr/bin/chromium), the headless browser the HTML report
# test (test/integration/html-report.test.ts) renders the report in. Needs apt-get and root
# (or sudo). No download outside the configured apt sources.
# Idempotent: exits 0 at once when /usr/bin/chromium is already there; runs `apt-get update`
# only when apt has no installable candidate for chromium yet (fresh image, empty lists).
#
#   bash scripts/install-chromium.sh
set -euo pipefail

CHROMIUM_BIN="/usr/bin/chromium"

case "${1:-}" in
  "") ;;
  -h | --help)
    sed -n '2,8p' "$0"
    exit 0
    ;;
  *)
    echo "install-chromium: unknown argument '$1' (expected none)" >&2
    exit 2
    ;;
esac

if [[ -x "${CHROMIUM_BIN}" ]]; then
  echo "chromium already installed: ${CHROMIUM_BIN} ($("${CHROMIUM_BIN}" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install Chromium so that ${CHROMIUM_BIN} exists (Debian/Ubuntu: apt-get install chromium)" >&2
  exit 1
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "install-chromium: not root and no sudo; run as root: apt-get install -y chromium" >&2
    exit 1
  fi
fi

candidate() {
  apt-cache policy chromium 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

# Package lists are only refreshed when they cannot already install chromium: a re-run, or an
# image whose lists are current, touches no network for the index.
if [[ -z "$(candidate)" || "$(candidate)" == "(none)" ]]; then
  echo "install-chromium: no chromium candidate in the apt lists; running apt-get update"
  "${as_root[@]}" apt-get update -qq
fi
wanted="$(candidate)"
if [[ -z "${wanted}" || "${wanted}" == "(none)" ]]; then
  echo "install-chromium: apt has no installable chromium package (apt-cache policy chromium: no candidate); check /etc/apt/sources.list" >&2
  exit 1
fi

echo "installing chromium ${wanted}"
# Recommends would add a printer stack, udev and Mesa that headless rendering never uses; the one
# recommend that matters is a font family with metric-compatible Arial/Helvetica for the report.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation

if [[ ! -x "${CHROMIUM_BIN}" ]]; then
  echo "install-chromium: apt-get succeeded but ${CHROMIUM_BIN} is missing" >&2
  exit 1
fi
echo "installed: ${CHROMIUM_BIN} ($("${CHROMIUM_BIN}" --version 2>/dev/null || echo 'version unknown'))"
