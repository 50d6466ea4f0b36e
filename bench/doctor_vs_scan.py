#!/usr/bin/env python3
"""CPU of `doctor --snapshot` against `scan` over the same log lines, and startup CPU.

Generates --lines lines with scan_bench's generator (the same mixed application log,
about 1% failure signatures), writes them once as a text log and once as the log
records of a snapshot, and measures, best of --runs, the CPU time (user + sys, from
getrusage of the children, so a noisy machine changes it less than wall time) of:

  sickbay scan --output json LOG
  sickbay doctor --snapshot SNAP --output json --fail-on never

and of commands that should start fast: `--version`, `rules explain NET001`, `scan` of
a one-line paste, `lint` of a small folder. Prints the doctor/scan ratio (goal: at most
1.5) and each startup figure (goal: well under 0.1 s).

Usage: python3 bench/doctor_vs_scan.py --bin target/release/sickbay [--lines 50000]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan_bench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.5
GOAL_STARTUP_S = 0.1


def cpu_of(cmd, stdin=None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "NO_COLOR": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(cmd, runs, stdin_path=None) -> float:
    out = []
    for _ in range(runs):
        if stdin_path:
            with open(stdin_path, "rb") as f:
                out.append(cpu_of(cmd, stdin=f))
        else:
            out.append(cpu_of(cmd))
    return min(out)


def write_inputs(work: Path, n: int, seed: int) -> tuple[Path, Path]:
    log = work / "app.log"
    snap = work / "snapshot.json"
    lines = list(scan_bench.Gen(seed).lines(n, 0.01))
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = [{"group": "/ecs/api", "stream": "ecs/api/0123456789abcdef",
                "message": line, "task_id": "0123456789abcdef", "container": "api"}
               for line in lines]
    snap.write_text(json.dumps({
        "schema_version": 1,
        "target": {"cluster": "bench", "region": "us-east-1"},
        "logs": records,
    }), encoding="utf-8")
    return log, snap


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "sickbay"))
    ap.add_argument("--lines", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    sb = a.bin
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        log, snap = write_inputs(work, a.lines, a.seed)
        paste = work / "paste.txt"
        paste.write_text("Error: getaddrinfo ENOTFOUND db.internal\n")
        small = work / "small"
        small.mkdir()
        (small / ".env").write_text("DATABASE_URL=postgres://app@localhost:5432/app\n")
        scan = best([sb, "scan", "--output", "json", str(log)], a.runs)
        doctor = best([sb, "doctor", "--snapshot", str(snap), "--output", "json",
                       "--fail-on", "never"], a.runs)
        startup = {
            "--version": best([sb, "--version"], a.runs),
            "rules explain NET001": best([sb, "rules", "explain", "NET001"], a.runs),
            "scan (one-line paste)": best([sb, "scan", str(paste)], a.runs),
            "lint (small folder)": best([sb, "lint", str(small), "--fail-on", "never"], a.runs),
        }
    ratio = doctor / scan if scan > 0 else float("inf")
    print(f"{a.lines} log lines, best of {a.runs}, CPU seconds (user+sys)")
    print(f"  scan                {scan:7.3f}")
    print(f"  doctor --snapshot   {doctor:7.3f}")
    print(f"  ratio doctor/scan   {ratio:7.2f}  (goal <= {GOAL_RATIO})")
    print("startup CPU seconds")
    for k, v in startup.items():
        print(f"  {k:22} {v:6.3f}  (goal < {GOAL_STARTUP_S})")
    if a.json:
        a.json.write_text(json.dumps({"lines": a.lines, "scan": scan, "doctor": doctor,
                                      "ratio": ratio, "startup": startup}, indent=2))


if __name__ == "__main__":
    main()
