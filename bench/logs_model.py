"""A delaying proxy in front of moto that also does the server-side log filtering moto
leaves out, as CloudWatch Logs does it, so that the log-window benchmark measures what
travels in each mode:

- Logs Insights: moto ignores `filter` commands and applies `limit` before anything
  else. The proxy sends the query on without its `limit`, then keeps the rows whose
  `@logStream` is in the query's `in [...]` list and whose `@message` satisfies its
  filter (`like /.../` regexes joined by `and`/`or`), applies the limit, and adds the statistics Insights reports
  (records and bytes scanned: every record in the window of the group).
- FilterLogEvents: moto treats an OR pattern (`?"a" ?"b"`) as "every event". The proxy
  keeps the events whose message contains one of the quoted terms (case-sensitive, as
  filter patterns are).
"""

import json
import re
import threading
import uuid

import live

_queries = {}


def _insights_parts(query):
    streams = None
    m = re.search(r"@logStream in (\[.*?\])", query)
    if m:
        streams = set(json.loads(m.group(1)))
    m = re.search(r"\n\| filter ((?!@logStream in).*)\n", query)
    limit = re.search(r"\| limit (\d+)", query)
    return streams, _Filter(m.group(1)) if m else None, int(limit.group(1)) if limit else 10_000


class _Filter:
    """An Insights filter of `@message like /(?i).../` clauses joined by `and`, `or`
    and parentheses, evaluated as Insights would: each regex compiled (Python's re
    reads the escapes sickbay writes), the boolean structure left to Python. A regex
    that is a plain literal is tested as a lower-cased substring, which means the same
    and is far faster in Python."""

    def __init__(self, text):
        self.tests = []
        expr, i = [], 0
        head = "@message like /"
        while i < len(text):
            if text.startswith(head, i):
                j = i + len(head)
                k = j
                while text[k] != "/":
                    k += 2 if text[k] == "\\" else 1
                self.tests.append(_test(text[j:k].replace("\\/", "/")))
                expr.append(f"t{len(self.tests) - 1}(low)")
                i = k + 1
            else:
                expr.append(text[i])
                i += 1
        scope = {f"t{n}": t for n, t in enumerate(self.tests)}
        self.test = eval("lambda low: " + "".join(expr), scope)

    def search(self, message):
        return bool(self.test(message.lower()))


def _test(regex):
    body = regex[4:] if regex.startswith("(?i)") else regex
    plain = re.sub(r"\\s", " ", body)
    if not re.search(r"[\\()\[\]|?*+.{}^$]", plain):
        lit = plain.lower()
        return lambda low: lit in low
    # (The terms are lower-case: matching the lower-cased line without (?i) is the
    # same test, and faster.)
    return re.compile(body).search


_events = {}
_lock = threading.Lock()


def remember(group, stream, events):
    """Keeps seeded events for the Insights model (what moto stores too)."""
    rows = _events.setdefault(group, [])
    rows.extend((e["timestamp"], stream, e["message"]) for e in events)
    rows.sort(key=lambda r: r[0])


def _run_query(qid, req):
    streams, test, limit = _insights_parts(req.get("queryString", ""))
    lo, hi = req["startTime"] * 1000, req["endTime"] * 1000
    scanned = [r for r in _events.get(req.get("logGroupName"), []) if lo <= r[0] <= hi]
    kept = [r for r in scanned
            if (streams is None or r[1] in streams) and (test is None or test.search(r[2]))]
    rows = [[{"field": "@timestamp", "value": str(ts)}, {"field": "@logStream", "value": s},
             {"field": "@message", "value": m}, {"field": "@ptr", "value": f"{s}:{ts}:{n}"}]
            for n, (ts, s, m) in enumerate(kept[:limit])]
    with _lock:
        _queries[qid] = {
            "status": "Complete",
            "results": rows,
            "statistics": {
                "recordsScanned": float(len(scanned)),
                "recordsMatched": float(len(kept)),
                "bytesScanned": float(sum(len(r[2]) + 60 for r in scanned)),
            },
        }


class _Model(live._Delay):
    def _answer(self, target, body):
        if target.endswith(".StartQuery"):
            req = json.loads(body or b"{}")
            qid = uuid.uuid4().hex
            with _lock:
                _queries[qid] = {"status": "Running"}
            threading.Thread(target=_run_query, args=(qid, req), daemon=True).start()
            return json.dumps({"queryId": qid}).encode()
        if target.endswith(".GetQueryResults"):
            qid = json.loads(body or b"{}").get("queryId")
            with _lock:
                out = _queries.get(qid, {"status": "Failed"})
            return json.dumps(out).encode()
        return None

    def _rewrite(self, target, body):
        if not target.startswith("Logs_"):
            return body
        req = json.loads(body or b"{}")
        if target.endswith(".FilterLogEvents") and req.get("filterPattern"):
            # moto would parse the pattern once per event and then match everything.
            del req["filterPattern"]
            return json.dumps(req).encode()
        return body

    def _filter(self, target, body, data):
        if not target.endswith(".FilterLogEvents"):
            return data
        req = json.loads(body or b"{}")
        if not req.get("filterPattern"):
            return data
        out = json.loads(data or b"{}")
        terms = [t.replace('\\"', '"').replace("\\\\", "\\")
                 for t in re.findall(r'\?"((?:[^"\\]|\\.)*)"', req["filterPattern"])]
        out["events"] = [e for e in out.get("events", [])
                         if any(t in e.get("message", "") for t in terms)]
        return json.dumps(out).encode()


def start(moto_url, latency_ms):
    """Starts the proxy; returns (server, url)."""
    return live.start_delay_proxy(moto_url, latency_ms, handler_base=_Model)
