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

cargo test --all-targets --locked "$@"
