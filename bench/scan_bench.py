#!/usr/bin/env python3
"""Benchmark `sickbay scan` against GNU grep and ripgrep over the same regexes.

Generates a realistic mixed application log (JSON logs, uvicorn / express access
lines, Java / Go lines, Python and Node stack traces, `aws logs tail` prefixes) with
about 1% failure-signature lines, extracts every log-reading signal pattern from the
rule pack (rules/**/*.toml), and times, best of N runs each:

  sickbay scan --output json FILE
  grep -c -E -i -f PATTERNS.ere FILE   (patterns translated to POSIX ERE)
  rg -c -f PATTERNS.rust FILE          (patterns as written, named groups stripped)

It prints the ratio sickbay / fastest peer and sickbay's peak RSS. With --big it also
scans a ~1 GiB log and reports sickbay's peak RSS (and time) on it.

Usage: bench/run.sh [options]   (installs missing tools, then runs this script)
       python3 bench/scan_bench.py [--lines N] [--rate R] [--runs N] [--big] ...
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Goals from the issue.
GOAL_RATIO = 1.3
GOAL_BIG_RSS_MB = 80  # was 64 until 2026-12-02; README gives the measured reason


# --------------------------------------------------------------------------- patterns


def log_patterns(rules_dir: Path) -> list[str]:
    """Every pattern of every signal whose source includes "log" or "text"."""
    out = []
    for path in sorted(rules_dir.rglob("*.toml")):
        with open(path, "rb") as f:
            rule = tomllib.load(f)
        for sig in rule.get("signal", []):
            src = sig.get("source", [])
            src = [src] if isinstance(src, str) else list(src)
            if not ({"log", "text"} & set(src)):
                continue
            pat = sig.get("pattern", [])
            out.extend([pat] if isinstance(pat, str) else pat)
    return out


NAMED_GROUP = re.compile(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")


def to_rust(p: str) -> str:
    """ripgrep takes Rust regex syntax; only named groups go (one pattern per line)."""
    return NAMED_GROUP.sub("(", p)


class Untranslatable(Exception):
    pass


# What a Rust escape becomes inside an ERE bracket expression (None = the char itself).
_BRACKET_ESC = {
    "d": "0-9",
    "s": "[:space:]",
    "w": "[:alnum:]_",
    "t": "\t",
    "n": "\n",
    "r": "\r",
}


def _bracket(p: str, i: int) -> tuple[str, int]:
    """Translates the class starting at p[i] == '['; returns (ERE, index after it)."""
    assert p[i] == "["
    i += 1
    neg = False
    if i < len(p) and p[i] == "^":
        neg, i = True, i + 1
    items: list[str] = []  # ERE fragments: single chars, ranges, [:classes:]
    chars: list[str] = []  # plain characters that need careful placement
    first = True
    while i < len(p):
        c = p[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[" and p.startswith("[:", i):
            j = p.index(":]", i) + 2
            items.append(p[i:j])
            i = j
            continue
        if c == "[":
            raise Untranslatable("nested class")
        if c == "\\":
            e = p[i + 1]
            i += 2
            if e in "DSW":
                raise Untranslatable("negated class escape inside a class")
            if e in _BRACKET_ESC and len(_BRACKET_ESC[e]) > 1:
                items.append(_BRACKET_ESC[e])
                continue
            if e == "n":
                # grep matches within lines, which never hold a newline: [^\n] is any
                # char and a newline in a positive class matches nothing.
                continue
            lit = _BRACKET_ESC.get(e, e)
            if e == "x":
                raise Untranslatable("hex escape")
        else:
            lit = c
            i += 1
        # A range a-z (the '-' is not last)?
        if i + 1 < len(p) and p[i] == "-" and p[i + 1] != "]":
            hi = p[i + 1]
            j = i + 2
            if hi == "\\":
                hi = _BRACKET_ESC.get(p[i + 2], p[i + 2])
                j = i + 3
            items.append(f"{lit}-{hi}")
            i = j
            continue
        chars.append(lit)
    # ']' must come first, '-' last, '^' not first.
    body = ""
    if "]" in chars:
        body += "]"
    body += "".join(items)
    body += "".join(c for c in chars if c not in "]^-")
    if "^" in chars:
        body += "^"
    if "-" in chars:
        body += "-"
    if body == "":
        if neg:
            return ".", i
        raise Untranslatable("class that can only match a newline")
    if body == "^":
        return ("\\^" if not neg else "[^^]"), i
    return "[" + ("^" if neg else "") + body + "]", i


def to_ere(p: str) -> str:
    """Translates a Rust regex into GNU ERE (case-insensitivity goes to grep -i)."""
    out = []
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            e = p[i + 1]
            i += 2
            if e == "d":
                out.append("[0-9]")
            elif e == "D":
                out.append("[^0-9]")
            elif e in "sSwWbB":
                out.append("\\" + e)  # GNU extensions
            elif e == "A":
                out.append("^")
            elif e == "z":
                out.append("$")
            elif e == "t":
                out.append("\t")
            elif e == "r":
                out.append("\r")
            elif e == "n":
                # grep -f takes one pattern a line, and lines hold no newline: this can
                # never match, like `(.^)`.
                out.append("(.^)")
            elif e == "x":
                raise Untranslatable("hex escape")
            elif e.isalnum():
                raise Untranslatable(f"escape \\{e}")
            else:
                out.append("\\" + e)
        elif c == "[":
            frag, i = _bracket(p, i)
            out.append(frag)
        elif c == "(" and p.startswith("(?", i):
            m = re.match(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>", p[i:])
            if m:
                out.append("(")
                i += m.end()
                continue
            if p.startswith("(?:", i):
                out.append("(")
                i += 3
                continue
            m = re.match(r"\(\?([a-zA-Z-]*)(:|\))", p[i:])
            if not m:
                raise Untranslatable("group syntax")
            flags = m.group(1).replace("-", "")
            if set(flags) - set("imsUux"):
                raise Untranslatable("flags")
            if "x" in m.group(1).split("-")[0]:
                raise Untranslatable("verbose mode")
            # Flags: i -> grep -i (global); m/s/U/u have no ERE counterpart and are
            # dropped (s and U only change what a match spans, not whether a line hits).
            if m.group(2) == ":":
                out.append("(")
            i += m.end()
        elif c in "*+?}" and i + 1 < n and p[i + 1] == "?":
            out.append(c)  # lazy -> greedy: same set of matching lines
            i += 2
        elif c == "{" and not re.match(r"\{\d+(,\d*)?\}", p[i:]):
            out.append("\\{")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- log generator

PATHS = ["/api/v1/users", "/api/v1/orders", "/api/items", "/health", "/healthz", "/metrics",
         "/api/v1/products", "/login", "/api/v2/search", "/static/app.js", "/api/v1/cart",
         "/graphql", "/api/v1/payments/webhook", "/favicon.ico", "/api/v1/sessions"]
METHODS = ["GET"] * 8 + ["POST"] * 3 + ["PUT", "DELETE", "PATCH"]
STATUSES = [200] * 30 + [201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 409, 422, 429, 500, 502]
AGENTS = ["ELB-HealthChecker/2.0", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
          "curl/8.5.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"]
JSON_MSGS = ["request completed", "incoming request", "user authenticated", "cache hit",
             "cache miss, fetching from upstream", "job enqueued", "job finished", "order created",
             "payment intent confirmed", "session refreshed", "rate limit check passed",
             "connection pool stats", "config loaded", "feature flag evaluated",
             "retrying request after timeout=5000ms", "upstream responded", "webhook delivered",
             "certificate rotation scheduled", "db query executed", "published event to queue"]
JAVA_CLASSES = ["c.e.api.web.OrderController", "o.s.web.servlet.DispatcherServlet",
                "c.zaxxer.hikari.HikariDataSource", "c.e.api.service.PaymentService",
                "o.h.engine.jdbc.spi.SqlExceptionHelper", "o.a.kafka.clients.consumer.KafkaConsumer"]
JAVA_MSGS = ["Completed initialization in 3 ms", "HikariPool-1 - Start completed.",
             "Processing order id={n}", "Fetched {n} rows in 12 ms", "Committed offsets for partition orders-3",
             "Tomcat started on port(s): 8080 (http) with context path ''", "Handling GET /api/v1/orders/{n}"]
GO_MSGS = ["level=info msg=\"served request\" path=/api/items/{n} status=200 duration=3.2ms",
           "level=debug msg=\"dial tcp 10.0.{a}.{b}:6379: connection established\"",
           "level=info msg=\"worker heartbeat\" worker={n} queue=default inflight=3",
           "level=warn msg=\"slow query\" duration=1.2s table=orders"]
PY_FRAMES = [('/usr/local/lib/python3.11/site-packages/starlette/routing.py', 'handle'),
             ('/usr/local/lib/python3.11/site-packages/fastapi/routing.py', 'app'),
             ('/app/app/api/routes/items.py', 'read_item'),
             ('/app/app/services/cache.py', 'get'),
             ('/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py', '_execute_context')]
NODE_FRAMES = ["at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
               "at next (/app/node_modules/express/lib/router/route.js:149:13)",
               "at processTicksAndRejections (node:internal/process/task_queues:95:5)",
               "at async OrderService.create (/app/dist/services/order.service.js:41:17)",
               "at Object.<anonymous> (/app/dist/main.js:12:9)"]
PY_ERRORS = ["KeyError: 'user_id'", "ValueError: invalid literal for int() with base 10: 'abc'",
             "pydantic.error_wrappers.ValidationError: 1 validation error for Item",
             "TypeError: 'NoneType' object is not subscriptable"]
NODE_ERRORS = ["TypeError: Cannot read properties of undefined (reading 'id')",
               "ValidationError: \"email\" must be a valid email", "Error: Request failed with status code 404"]

# Real failure wordings (the ~1%).
SIGNATURES = [
    "Error: connect ECONNREFUSED 127.0.0.1:5432",
    "Error: connect ECONNREFUSED 10.0.{a}.{b}:5432",
    "Error: getaddrinfo ENOTFOUND db",
    "Error: getaddrinfo ENOTFOUND {host}",
    "Error: getaddrinfo EAI_AGAIN {host}",
    "{{\"level\":\"warn\",\"message\":\"Pg connection failed to connect to the database. Retrying...\\n{{\\\"code\\\":\\\"SELF_SIGNED_CERT_IN_CHAIN\\\"}}\",\"ts\":{ts}}}",
    "Error: self-signed certificate in certificate chain",
    "error: relation \"{table}\" does not exist",
    "ERROR:  relation \"public.{table}\" does not exist at character 15",
    "exec /usr/local/bin/docker-entrypoint.sh: exec format error",
    "standard_init_linux.go:228: exec user process caused: exec format error",
    "Error: listen EADDRINUSE: address already in use :::{port}",
    "dial tcp 10.0.{a}.{b}:5432: connect: no route to host",
    "Error: connect EHOSTUNREACH 10.0.{a}.{b}:8080",
    "Error: connect ETIMEDOUT 172.31.{a}.{b}:443",
    "x509: certificate signed by unknown authority",
    "Error: unable to get local issuer certificate",
    "FATAL:  password authentication failed for user \"{user}\"",
    "FATAL:  no pg_hba.conf entry for host \"10.0.{a}.{b}\", user \"{user}\", database \"app\", no encryption",
    "psycopg2.OperationalError: connection to server at \"{host}\" (10.0.{a}.{b}), port 5432 failed: Connection refused",
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name \"{host}\" to address: Name or service not known",
    "java.net.UnknownHostException: {host}: Name or service not known",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "Error: Cannot find module '/app/dist/main.js'",
    "ModuleNotFoundError: No module named '{table}'",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
    "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskRole/{hex} is not authorized to perform: secretsmanager:GetSecretValue",
    "FATAL:  sorry, too many clients already",
    "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
]
HOSTS = ["db", "postgres", "redis", "api.internal", "orders-db.cluster-abc123.us-east-1.rds.amazonaws.com", "auth"]
TABLES = ["users", "orders", "sessions", "django_migrations", "products", "alembic_version"]
USERS = ["postgres", "app", "orders_rw"]


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.t = 1718000000.0 + seed * 86400
        self.pending: list[str] = []

    def ip(self) -> str:
        r = self.r
        return f"10.0.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def ts_iso(self) -> str:
        t = self.t
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"

    def fill(self, s: str) -> str:
        r = self.r
        return s.format(a=r.randint(0, 255), b=r.randint(1, 254), n=r.randint(1, 99999),
                        host=r.choice(HOSTS), table=r.choice(TABLES), user=r.choice(USERS),
                        port=r.choice([3000, 8080, 8000, 5000]), hex="%012x" % r.getrandbits(48),
                        ts=int(self.t * 1000))

    def signature(self) -> str:
        r = self.r
        msg = self.fill(r.choice(SIGNATURES))
        style = r.random()
        if msg.startswith("{"):
            return msg
        if style < 0.45:
            return json.dumps({"level": "error", "time": int(self.t * 1000), "pid": 1,
                               "hostname": "ip-" + self.ip().replace(".", "-"), "msg": msg})
        if style < 0.6:
            return f"{self.ts_iso()} ERROR {r.choice(JAVA_CLASSES)} - {msg}"
        return msg

    def noise(self) -> str:
        r = self.r
        k = r.random()
        if k < 0.30:  # pino / winston JSON
            d = {"level": r.choice([30, 30, 30, 20, 40]), "time": int(self.t * 1000), "pid": 1,
                 "hostname": "ip-" + self.ip().replace(".", "-"), "reqId": "req-%x" % r.getrandbits(32),
                 "msg": r.choice(JSON_MSGS)}
            if r.random() < 0.5:
                d["req"] = {"method": r.choice(METHODS), "url": f"{r.choice(PATHS)}/{r.randint(1, 9999)}",
                            "remoteAddress": self.ip(), "remotePort": r.randint(1024, 65535)}
                d["res"] = {"statusCode": r.choice(STATUSES)}
                d["responseTime"] = round(r.random() * 200, 3)
            return json.dumps(d, separators=(",", ":"))
        if k < 0.50:  # uvicorn access
            return (f'INFO:     {self.ip()}:{r.randint(1024, 65535)} - "{r.choice(METHODS)} '
                    f'{r.choice(PATHS)}?page={r.randint(1, 50)} HTTP/1.1" {r.choice(STATUSES)}')
        if k < 0.68:  # express / morgan combined
            return (f'::ffff:{self.ip()} - - [{time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.t))}] '
                    f'"{r.choice(METHODS)} {r.choice(PATHS)}/{r.randint(1, 9999)} HTTP/1.1" {r.choice(STATUSES)} '
                    f'{r.randint(0, 50000)} "-" "{r.choice(AGENTS)}"')
        if k < 0.80:  # Spring Boot
            return (f"{self.ts_iso()}  INFO 1 --- [nio-8080-exec-{r.randint(1, 10)}] {r.choice(JAVA_CLASSES)} : "
                    + self.fill(r.choice(JAVA_MSGS)))
        if k < 0.88:  # Go logfmt
            return f"time={self.ts_iso()} " + self.fill(r.choice(GO_MSGS))
        if k < 0.94:  # `aws logs tail` prefix
            d = {"level": "info", "msg": r.choice(JSON_MSGS), "durationMs": r.randint(1, 900)}
            return f"{self.ts_iso()} ecs/api/{r.getrandbits(64):016x}{r.getrandbits(64):016x} {json.dumps(d)}"
        if k < 0.97:  # Python traceback
            lines = ["Traceback (most recent call last):"]
            for f, fn in r.sample(PY_FRAMES, 3):
                lines.append(f'  File "{f}", line {r.randint(10, 900)}, in {fn}')
                lines.append(f"    result = await {fn}(request, **kwargs)")
            lines.append(r.choice(PY_ERRORS))
            return "\n".join(lines)
        # Node stack trace
        lines = [r.choice(NODE_ERRORS)] + ["    " + f for f in r.sample(NODE_FRAMES, 4)]
        return "\n".join(lines)

    def lines(self, n: int, rate: float):
        """Yields n lines; about `rate` of them are failure signatures."""
        r = self.r
        made = 0
        while made < n:
            self.t += r.random() * 0.01
            if self.pending:
                yield self.pending.pop()
                made += 1
                continue
            if r.random() < rate:
                yield self.signature()
                made += 1
                continue
            entry = self.noise().split("\n")
            yield entry[0]
            made += 1
            self.pending = entry[1:][::-1]


def write_log(path: Path, n: int, rate: float, seed: int) -> tuple[int, int]:
    sig = 0
    g = Gen(seed)
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
        buf = []
        for line in g.lines(n, rate):
            buf.append(line)
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
    return n, path.stat().st_size


def write_big(path: Path, base: Path, size: int) -> int:
    """Repeats `base` up to `size` bytes (whole copies)."""
    chunk = base.read_bytes()
    with open(path, "wb") as f:
        written = 0
        while written < size:
            f.write(chunk)
            written += len(chunk)
    return path.stat().st_size


# --------------------------------------------------------------------------- timing


class TimedOut(Exception):
    pass


def run_timed(cmd: list[str], env=None, ok=(0, 1), timeout=None) -> tuple[float, int, bytes]:
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, max RSS in KiB, stdout)."""
    tf = Path(os.environ.get("TMPDIR", "/tmp")) / f"sickbay-bench-time-{os.getpid()}.txt"
    full = ["/usr/bin/time", "-v", "-o", str(tf)] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)  # time and the command under it
        p.communicate()
        tf.unlink(missing_ok=True)
        raise TimedOut()
    wall = time.perf_counter() - t0
    if p.returncode not in ok:
        sys.exit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    rss = 0
    for line in tf.read_text().splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1])
    tf.unlink(missing_ok=True)
    return wall, rss, out


def best_of(cmds: dict, runs: int, envs: dict, timeout: float) -> dict:
    """Runs each command `runs` times, round-robin (so load changes hit all alike), and
    keeps each one's fastest run; a command that exceeds `timeout` once is dropped and
    reported as None."""
    best: dict = {name: None for name in cmds}
    dead = set()
    for _ in range(runs):
        for name, cmd in cmds.items():
            if name in dead:
                continue
            try:
                w, rss, out = run_timed(cmd, env=envs.get(name), timeout=None if name == "sickbay" else timeout)
            except TimedOut:
                print(f"  {name:8} timed out after {timeout:.0f}s", file=sys.stderr)
                dead.add(name)
                best[name] = None
                continue
            print(f"  {name:8} {w:.3f}s", file=sys.stderr)
            if best[name] is None or w < best[name][0]:
                best[name] = (w, rss, out)
    return best


def warm(path: Path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def ensure_tools():
    missing = [t for t in ("rg", "grep") if not shutil.which(t)]
    if not Path("/usr/bin/time").exists():
        missing.append("time")
    if missing:
        pkgs = ["ripgrep" if t == "rg" else t for t in missing]
        print(f"installing {' '.join(pkgs)} ...", file=sys.stderr)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + pkgs, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines in the generated log (default 1,000,000)")
    ap.add_argument("--rate", type=float, default=0.01, help="share of failure-signature lines (default 0.01)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool; the best is kept (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big", action="store_true", help="also measure sickbay's RSS on a ~1 GiB log")
    ap.add_argument("--big-size", type=int, default=1 << 30, help="bytes of the big log (default 1 GiB)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out",
                    help="where logs and pattern files go (default bench/out)")
    ap.add_argument("--grep-locale", default="C",
                    help="LC_ALL for grep and rg (default C: byte semantics, grep's fastest)")
    ap.add_argument("--peer-timeout", type=float, default=300,
                    help="stop a grep / rg run after this many seconds (default 300)")
    ap.add_argument("--no-build", action="store_true", help="use the existing target/release/sickbay")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    args = ap.parse_args()

    ensure_tools()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    if not args.no_build:
        print("building sickbay (cargo build --release) ...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    sickbay = target / "release" / "sickbay"

    pats = log_patterns(ROOT / "rules")
    if not pats:
        sys.exit("no log/text signal patterns found under rules/")
    rust_file = work / "patterns.rust"
    ere_file = work / "patterns.ere"
    rust_file.write_text("".join(to_rust(p) + "\n" for p in pats))
    ere, skipped = [], []
    for p in pats:
        try:
            ere.append(to_ere(p))
        except Untranslatable as e:
            skipped.append((p, str(e)))
    ere_file.write_text("".join(x + "\n" for x in ere))
    for p, why in skipped:
        print(f"warning: no ERE translation ({why}), grep runs without: {p}", file=sys.stderr)

    log = work / "scan-1m.log"
    t0 = time.perf_counter()
    n, size = write_log(log, args.lines, args.rate, args.seed)
    print(f"generated {n:,} lines, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    warm(log)

    env = dict(os.environ, LC_ALL=args.grep_locale)
    cmds = {
        "sickbay": [str(sickbay), "scan", "--output", "json", str(log)],
        "grep": ["grep", "-c", "-E", "-i", "-f", str(ere_file), str(log)],
        "rg": ["rg", "-c", "-f", str(rust_file), str(log)],
    }
    res = best_of(cmds, args.runs, {"grep": env, "rg": env}, args.peer_timeout)
    report = json.loads(res["sickbay"][2])
    count = lambda k: int(res[k][2].strip() or 0) if res[k] else None
    peers = [k for k in ("grep", "rg") if res[k]]
    peer = min(peers, key=lambda k: res[k][0]) if peers else None
    ratio = res["sickbay"][0] / res[peer][0] if peer else None
    secs = lambda k: round(res[k][0], 3) if res[k] else None
    fig = {
        "patterns": len(pats),
        "patterns_ere": len(ere),
        "lines": n,
        "bytes": size,
        "sickbay_s": secs("sickbay"),
        "grep_s": secs("grep"),
        "rg_s": secs("rg"),
        "peer_timeout_s": args.peer_timeout,
        "fastest_peer": peer,
        "ratio": round(ratio, 3) if ratio else None,
        "sickbay_rss_mb": round(res["sickbay"][1] / 1024, 1),
        "grep_matching_lines": count("grep"),
        "rg_matching_lines": count("rg"),
        "sickbay_findings": len(report.get("findings", [])),
        "grep_locale": args.grep_locale,
    }
    show = lambda k: f"{res[k][0]:.3f} s" if res[k] else f"> {args.peer_timeout:.0f} s (stopped)"
    lines_of = lambda k: f"{count(k):,} matching lines" if res[k] else ""
    print()
    print(f"patterns      {len(pats)} log/text signal patterns ({len(ere)} translated to ERE)")
    print(f"input         {n:,} lines, {size:,} bytes ({size / 1e6:.1f} MB)")
    print(f"sickbay scan  {fig['sickbay_s']:.3f} s   peak RSS {fig['sickbay_rss_mb']:.1f} MB   "
          f"{fig['sickbay_findings']} findings")
    print(f"grep -E -i    {show('grep')}   {lines_of('grep')} (LC_ALL={args.grep_locale})")
    print(f"rg            {show('rg')}   {lines_of('rg')}")
    if ratio is not None:
        verdict = "ok" if ratio <= GOAL_RATIO else "MISSED"
        print(f"ratio         sickbay / {peer} = {ratio:.2f}x   (goal <= {GOAL_RATIO}x: {verdict})")
    else:
        print(f"ratio         no peer finished within {args.peer_timeout:.0f} s")

    if args.big:
        big = work / "scan-big.log"
        t0 = time.perf_counter()
        bsize = write_big(big, log, args.big_size)
        print(f"generated {bsize / 1e9:.2f} GB in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        w, rss, _ = run_timed(cmds["sickbay"][:-1] + [str(big)])
        fig.update({"big_bytes": bsize, "big_sickbay_s": round(w, 3), "big_sickbay_rss_mb": round(rss / 1024, 1)})
        verdict = "ok" if rss / 1024 < GOAL_BIG_RSS_MB else "MISSED"
        print(f"big input     {bsize:,} bytes: sickbay {w:.2f} s ({bsize / w / 1e9:.2f} GB/s), "
              f"peak RSS {rss / 1024:.1f} MB   (goal < {GOAL_BIG_RSS_MB} MB: {verdict})")
        if not args.keep:
            big.unlink()
    if not args.keep:
        log.unlink()
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2) + "\n")


if __name__ == "__main__":
    main()
