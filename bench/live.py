#!/usr/bin/env python3
"""Live-collection benchmark against the moto server (an AWS API peer on loopback).

For 1, 10 and 50 services (each with two stopped tasks, each task with a log stream of
50 lines) it seeds a fresh cluster, runs `sickbay doctor --cluster ...` (every service,
no --service) live with the hidden `--call-stats` flag, and reports the median wall time
of the whole run, the median collection time (what `--call-stats` measures: AWS
configuration and collection, without rule loading and analysis) and the API calls per
action. Goal: 50 services take at most 3x as long as 1 (wall time ratio), and calls grow
by batches, not per item.

Usage: bench/live.py [--sickbay target/release/sickbay] [--sizes 1,10,50] [--runs 3]
Needs moto[server] (scripts/test.sh installs it into .venv-moto; boto3 comes with it):
run it with .venv-moto/bin/python bench/live.py.
"""

import argparse
import http.client
import http.server
import json
import threading
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGION = "us-east-1"
ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "AKIDSICKBAYBENCH",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(bin_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [bin_path, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"))
            break
        except OSError:
            time.sleep(0.1)
    body = json.dumps(
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}
    ).encode()
    urllib.request.urlopen(
        urllib.request.Request(url + "/moto-api/state-manager/set-transition", data=body, method="POST")
    )
    return proc, url


class _Delay(http.server.BaseHTTPRequestHandler):
    """Forwards each request to moto after `latency` seconds: the round trip of a real
    regional endpoint, which moto on loopback does not have."""

    protocol_version = "HTTP/1.1"
    upstream = None
    latency = 0.0
    local = threading.local()

    def log_message(self, *args):
        pass

    def _rewrite(self, target, body):
        """The request body sent on (a subclass may model what moto leaves out)."""
        return body

    def _filter(self, target, body, data):
        """The response body returned (a subclass may model what moto leaves out)."""
        return data

    def _answer(self, target, body):
        """A JSON answer given here instead of moto's, or None (a subclass may serve a
        call moto cannot)."""
        return None

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        own = self._answer(target, body)
        if own is not None:
            time.sleep(self.latency)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(own)))
            self.end_headers()
            self.wfile.write(own)
            return
        sent = self._rewrite(target, body)
        time.sleep(self.latency)
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(*self.upstream)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length")}
        headers["Content-Length"] = str(len(sent))
        try:
            conn.request(self.command, self.path, body=sent, headers=headers)
            resp = conn.getresponse()
        except (http.client.HTTPException, OSError):
            conn = self.local.conn = http.client.HTTPConnection(*self.upstream)
            conn.request(self.command, self.path, body=sent, headers=headers)
            resp = conn.getresponse()
        data = resp.read()
        if resp.status == 200:
            data = self._filter(target, body, data)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def start_delay_proxy(moto_url, latency_ms, handler_base=None):
    host, port = moto_url.rsplit("//", 1)[1].split(":")
    handler = type("Delay", (handler_base or _Delay,), {"upstream": (host, int(port)), "latency": latency_ms / 1000})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def clients(url):
    kw = dict(
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ENV["AWS_SECRET_ACCESS_KEY"],
    )
    return boto3.client("ecs", **kw), boto3.client("logs", **kw), boto3.client("ec2", **kw)


def seed(url, cluster, n):
    ecs, logs, ec2 = clients(url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=cluster, Description="bench", VpcId=vpc)["GroupId"]
    net = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}}
    ecs.create_cluster(clusterName=cluster)
    now = int(time.time() * 1000)
    for i in range(n):
        fam, group = f"{cluster}-svc{i}", f"/ecs/{cluster}/svc{i}"
        logs.create_log_group(logGroupName=group)
        ecs.register_task_definition(
            family=fam,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{
                "name": "app", "image": f"app:{i}", "memory": 512, "essential": True,
                "environment": [{"name": "PORT", "value": "8080"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-stream-prefix": "ecs", "awslogs-region": REGION}},
            }],
        )
        ecs.create_service(cluster=cluster, serviceName=f"svc{i}", taskDefinition=fam, desiredCount=1,
                           launchType="FARGATE", networkConfiguration=net)
        for _ in range(2):
            t = ecs.run_task(cluster=cluster, taskDefinition=fam, group=f"service:svc{i}",
                             launchType="FARGATE", networkConfiguration=net)["tasks"][0]
            tid = t["taskArn"].rsplit("/", 1)[1]
            stream = f"ecs/app/{tid}"
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                {"timestamp": now - 600_000 + k, "message": f"line {k}: connect ECONNREFUSED 10.9.1.{k % 250}:5432"}
                for k in range(50)
            ])
            ecs.stop_task(cluster=cluster, task=t["taskArn"], reason="Essential container in task exited")


def run(sickbay, url, cluster, extra):
    started = time.monotonic()
    p = subprocess.run(
        [sickbay, "doctor", "--cluster", cluster, "--endpoint-url", url, "--db", "off", "--cloudtrail", "off",
         "-o", "json", "--fail-on", "never", "--call-stats", *extra],
        capture_output=True, env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **ENV},
    )
    wall = time.monotonic() - started
    if p.returncode != 0:
        sys.exit(f"sickbay failed: {p.stderr.decode()}")
    stats = json.loads(p.stderr.decode().strip().splitlines()[-1])
    report = json.loads(p.stdout)
    return wall, stats, len(report["findings"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sickbay", default=os.path.join(ROOT, "target/release/sickbay"))
    ap.add_argument("--moto", default=os.path.join(ROOT, ".venv-moto/bin/moto_server"))
    ap.add_argument("--sizes", default="1,10,50")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--extra", default="", help="extra sickbay arguments, space-separated")
    ap.add_argument("--latency-ms", type=float, default=0,
                    help="add this round-trip time to every call sickbay makes (a proxy in "
                         "front of moto), to model a real regional endpoint (default 0)")
    a = ap.parse_args()
    proc, url = start_moto(a.moto)
    target = url
    if a.latency_ms > 0:
        _, target = start_delay_proxy(url, a.latency_ms)
        print(f"sickbay calls go through a proxy adding {a.latency_ms:g} ms per call", flush=True)
    try:
        rows = []
        for n in [int(x) for x in a.sizes.split(",")]:
            cluster = f"bench{n}"
            seed(url, cluster, n)
            walls, collects, stats = [], [], None
            for _ in range(a.runs):
                wall, stats, findings = run(a.sickbay, target, cluster, a.extra.split())
                walls.append(wall)
                collects.append(stats["elapsed_ms"] / 1000)
            wall, collect = statistics.median(walls), statistics.median(collects)
            rows.append((n, wall, collect, stats["total_calls"], stats["calls"]))
            print(f"{n:>3} services: median wall {wall:.2f}s (collection {collect:.2f}s) over "
                  f"{a.runs} runs, {stats['total_calls']} calls: "
                  f"{json.dumps(stats['calls'], sort_keys=True)}", flush=True)
        # The goal's ratio: median wall time of each size over that of the first size.
        base = rows[0][1]
        print("| services | wall (median) | ratio to 1 service | collection (median) | API calls |")
        print("|---:|---:|---:|---:|---:|")
        for n, wall, collect, calls, _ in rows:
            print(f"| {n} | {wall:.2f} s | {wall / base:.2f}x | {collect:.2f} s | {calls} |")
        actions = sorted({k for r in rows for k in r[4]})
        print()
        print("| API action | " + " | ".join(f"{r[0]} svc" for r in rows) + " |")
        print("|---|" + "---:|" * len(rows))
        for k in actions:
            print(f"| {k} | " + " | ".join(str(r[4].get(k, 0)) for r in rows) + " |")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
