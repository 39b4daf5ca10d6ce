#!/usr/bin/env bash
# What the tests need beyond npm, installed from Debian when missing (run by `npm test`):
# redis-server (the Redis tests start their own on a free loopback port), chromium (the
# report test drives it headless; never a downloaded browser), postgresql (the PostgreSQL
# tests initdb their own server; its binaries are under /usr/lib/postgresql/N/bin, not on
# PATH). As root it installs them; otherwise it says what to run.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs Debian packages that are not installed here: ${need[*]}. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# A freshly installed redis-server may start itself as a service; the tests use their own.
if [[ " ${need[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop redis-server >/dev/null 2>&1 || true
fi
# Likewise Debian's cluster of a fresh postgresql package: the tests start their own server.
if [[ " ${need[*]} " == *" postgresql "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl stop postgresql >/dev/null 2>&1 || true
fi
