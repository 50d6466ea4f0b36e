#!/usr/bin/env python3
"""Log-window benchmark against the moto server: `--logs tail`, `window`, `filter`,
`insights` and `auto`.

One service with 20 running tasks; each task's stream holds `--lines` lines (5,000:
100,000 in all) spread over the last 90 minutes, passing ALB health checks in an nginx
access log, and the only failure (a refused connection to
the database host) is in the first five lines of each stream. For each mode it runs
`sickbay doctor --cluster ... --call-stats` and reports the median wall time, the
CloudWatch Logs calls, the lines fetched (from the report's notes), and whether the
failure was found with its count. Every call goes through a proxy (bench/logs_model.py)
that adds `--latency-ms` of modelled round trip and does the server-side filtering moto
leaves out (Insights `filter` commands and statistics, OR filter patterns).

Usage: .venv-moto/bin/python bench/logs_window.py [--sickbay PATH] [--runs 3] [--latency-ms 30]
       [--lines 5000] [--modes tail,window,filter,insights,auto]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live  # noqa: E402  (moto start-up, the delay proxy and the environment)
import logs_model  # noqa: E402  (the proxy that filters as CloudWatch does)

TASKS, FAILING = 20, 5


def _health_check(ms):
    """An nginx access-log line of a passing ALB health check, as a busy service
    writes thousands of (its time makes each line distinct)."""
    t = time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(ms / 1000))
    return f'10.8.1.7 - - [{t} +0000] "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0"'


def seed(url, cluster, lines):
    ecs, logs, ec2 = live.clients(url)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=cluster, Description="bench", VpcId=vpc)["GroupId"]
    net = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}}
    ecs.create_cluster(clusterName=cluster)
    group = f"/ecs/{cluster}"
    logs.create_log_group(logGroupName=group)
    ecs.register_task_definition(
        family=cluster, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{
            "name": "app", "image": "app:1", "memory": 512, "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-stream-prefix": "ecs",
                "awslogs-region": live.REGION}},
        }],
    )
    ecs.create_service(cluster=cluster, serviceName="api", taskDefinition=cluster,
                       desiredCount=TASKS, launchType="FARGATE", networkConfiguration=net)
    start = int(time.time() * 1000) - 90 * 60_000
    step = 90 * 60_000 // lines
    for _ in range(TASKS):
        t = ecs.run_task(cluster=cluster, taskDefinition=cluster, group="service:api",
                         launchType="FARGATE", networkConfiguration=net)["tasks"][0]
        stream = f"ecs/app/{t['taskArn'].rsplit('/', 1)[1]}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = [
            {"timestamp": start + k * step,
             "message": ("Error: connect ECONNREFUSED 10.8.9.9:5432" if k < FAILING
                         else _health_check(start + k * step))}
            for k in range(lines)
        ]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        logs_model.remember(group, stream, events)
    return group


def run(sickbay, url, cluster, mode):
    started = time.monotonic()
    p = subprocess.run(
        [sickbay, "doctor", "--cluster", cluster, "--endpoint-url", url, "--db", "off", "--cloudtrail", "off",
         "-o", "json", "--fail-on", "never", "--call-stats", "--since", "2h", "--logs", mode],
        capture_output=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **live.ENV},
    )
    wall = time.monotonic() - started
    if p.returncode != 0:
        sys.exit(f"sickbay failed: {p.stderr.decode()}")
    stats = json.loads(p.stderr.decode().strip().splitlines()[-1])
    report = json.loads(p.stdout)
    lines = sum(int(m.group(1)) for n in report["notes"]
                for m in [re.search(r"\((\d+) lines", n)] if m)
    scanned = "".join(m.group(1) for n in report["notes"]
                      for m in [re.search(r"scanned \d+ records, ([\d.]+ [KMG]?B)", n)] if m)
    calls = {k.split(":")[1]: v for k, v in stats["calls"].items() if k.startswith("logs:")}
    found = [f for f in report["findings"] if f["rule"] == "NET004"]
    return wall, calls, lines, scanned, found[0]["occurrences"] if found else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sickbay", default=os.path.join(live.ROOT, "target/release/sickbay"))
    ap.add_argument("--moto", default=os.path.join(live.ROOT, ".venv-moto/bin/moto_server"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--lines", type=int, default=5_000, help="lines per stream")
    ap.add_argument("--modes", default="tail,window,filter,insights,auto")
    a = ap.parse_args()
    proc, url = live.start_moto(a.moto)
    _, target = logs_model.start(url, a.latency_ms)
    try:
        seed(url, "logbench", a.lines)
        print(f"{TASKS} streams x {a.lines} lines; failure in the first {FAILING} lines of each; "
              f"{a.latency_ms:g} ms added per call; median of {a.runs} runs")
        print("| mode | wall (median) | Logs calls | lines fetched | scanned (Insights) | failure found (count) |")
        print("|---|---:|---|---:|---:|---:|")
        for mode in a.modes.split(","):
            rows = [run(a.sickbay, target, "logbench", mode) for _ in range(a.runs)]
            wall = statistics.median(r[0] for r in rows)
            _, calls, lines, scanned, count = rows[-1]
            calls = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if k != "DescribeLogGroups")
            print(f"| {mode} | {wall:.2f} s | {calls} | {lines} | {scanned or '-'} | "
                  f"{'yes (' + str(count) + ')' if count else 'no'} |", flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
