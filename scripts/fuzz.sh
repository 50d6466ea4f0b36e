#!/usr/bin/env bash
# Runs every fuzz target for a while (default 120 s each) on the nightly toolchain, then
# minimises each corpus. New crashes land in fuzz/artifacts/<target>/; add the input to
# fuzz/corpus/<target>/ once fixed, so tests/fuzz_corpus.rs replays it on stable in CI.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(snapshot rule lint_compose lint_env lint_taskdef scan)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# Its own target folder, kept warm like CI's; the sanitizer build differs from the tests'.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/sickbay-fuzz-target}"
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096
  cargo +nightly fuzz cmin "$t" "fuzz/corpus/$t"
done
