#!/usr/bin/env bash
# Installs the Debian packages the harness and the reference application's tests rely on.
# Only as root on Debian/Ubuntu; elsewhere it says what is missing and carries on.
set -euo pipefail
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || need+=(postgresql)
command -v pg_dump >/dev/null || need+=(postgresql-client)
command -v dockerd >/dev/null || command -v podman >/dev/null || [ -S /var/run/docker.sock ] \
  || need+=(docker.io)
command -v npm >/dev/null || need+=(npm)
# Headless browsers: Chromium for the XSS probe (Playwright, executable_path) and both for the
# compatibility suite's page rendering (COMPAT-BROWSER: Chromium and Firefox ESR).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v firefox-esr >/dev/null || need+=(firefox-esr)
# Only benchmarks/load_generator.py uses wrk (the reference it compares the load generator to).
command -v wrk >/dev/null || need+=(wrk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "releasegate: missing system packages: ${need[*]} (install them, or run make as root on Debian/Ubuntu)" >&2
  exit 0
fi
echo "releasegate: installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
