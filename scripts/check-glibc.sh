#!/bin/sh
# Fails when BINARY needs a glibc newer than MAX (default 2.34, Amazon Linux 2023 and so
# AWS CloudShell). A static binary needs none and passes.
#   scripts/check-glibc.sh target/x86_64-unknown-linux-gnu/release/sickbay [2.34]
set -eu
bin="$1"
max="${2:-2.34}"
[ -f "$bin" ] || { echo "check-glibc: no such file $bin" >&2; exit 2; }
need=$(objdump -T "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n -u | tail -n 1)
if [ -z "$need" ]; then
    echo "check-glibc: $bin needs no versioned glibc symbol (static or not glibc): ok"
    exit 0
fi
newest=$(printf '%s\n%s\n' "$need" "$max" | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
if [ "$newest" != "$max" ] && [ "$need" != "$max" ]; then
    echo "check-glibc: $bin needs glibc $need, newer than $max" >&2
    objdump -T "$bin" | grep "GLIBC_$need" | head -n 5 >&2
    exit 1
fi
echo "check-glibc: $bin needs glibc $need (at most $max): ok"
