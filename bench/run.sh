#!/usr/bin/env bash
# Scan benchmark: installs what it needs on a fresh Debian machine, builds sickbay in
# release mode and times `sickbay scan` against GNU grep and ripgrep.
# Usage: bench/run.sh [--big] [--lines N] [--runs N] ...   (see bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v python3 >/dev/null || need+=(python3)
command -v rg >/dev/null || need+=(ripgrep)
command -v grep >/dev/null || need+=(grep)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}"
fi
exec python3 bench/scan_bench.py "$@"
