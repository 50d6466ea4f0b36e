"""A delaying proxy in front of moto that also does the server-side log filtering moto
leaves out, as CloudWatch Logs does it, so that the log-window benchmark measures what
travels in each mode:

- Logs Insights: moto ignores `filter` commands and applies `limit` before anything
  else. The proxy sends the query on without its `limit`, then keeps the rows whose
  `@logStream` is in the query's `in [...]` list and whose `@message` matches its
  `like /.../` regex, applies the limit, and adds the statistics Insights reports
  (records and bytes scanned: every record in the window of the group).
- FilterLogEvents: moto treats an OR pattern (`?"a" ?"b"`) as "every event". The proxy
  keeps the events whose message contains one of the quoted terms (case-sensitive, as
  filter patterns are).
"""

import json
import re

import live

_queries = {}


def _insights_parts(query):
    streams = None
    m = re.search(r"@logStream in (\[.*?\])", query)
    if m:
        streams = set(json.loads(m.group(1)))
    m = re.search(r"like /\(\?i\)\((.*)\)/\n", query)
    # The regex is an alternation of escaped terms (white space as \s): matched as
    # lower-cased substrings, which is what it means and far faster in Python.
    regex = None
    if m:
        terms = [re.sub(r"\\(.)", lambda c: " " if c.group(1) == "s" else c.group(1), t).lower()
                 for t in m.group(1).split("|")]
        regex = _Terms(terms)
    limit = re.search(r"\| limit (\d+)", query)
    return streams, regex, int(limit.group(1)) if limit else 10_000


class _Terms:
    def __init__(self, terms):
        self.terms = terms

    def search(self, message):
        low = message.lower()
        return any(t in low for t in self.terms)


class _Model(live._Delay):
    def _rewrite(self, target, body):
        if not target.startswith("Logs_"):
            return body
        req = json.loads(body or b"{}")
        if target.endswith(".StartQuery"):
            q = req.get("queryString", "")
            self.local.pending = _insights_parts(q)
            req["queryString"] = re.sub(r"\n\| limit \d+", "", q)
            return json.dumps(req).encode()
        if target.endswith(".FilterLogEvents") and req.get("filterPattern"):
            # moto would parse the pattern once per event and then match everything.
            del req["filterPattern"]
            return json.dumps(req).encode()
        return body

    def _filter(self, target, body, data):
        if not target.startswith("Logs_"):
            return data
        req = json.loads(body or b"{}")
        out = json.loads(data or b"{}")
        if target.endswith(".StartQuery") and "queryId" in out:
            _queries[out["queryId"]] = self.local.pending
        elif target.endswith(".GetQueryResults") and req.get("queryId") in _queries:
            streams, regex, limit = _queries[req["queryId"]]
            rows = [{f["field"]: f["value"] for f in r} for r in out.get("results", [])]
            kept = [r for r in rows
                    if (streams is None or r.get("@logStream") in streams)
                    and (regex is None or regex.search(r.get("@message", "")))]
            out["results"] = [[{"field": k, "value": v} for k, v in r.items()] for r in kept[:limit]]
            out["statistics"] = {
                "recordsScanned": float(len(rows)),
                "recordsMatched": float(len(kept)),
                "bytesScanned": float(sum(len(r.get("@message", "")) + 60 for r in rows)),
            }
        elif target.endswith(".FilterLogEvents") and req.get("filterPattern"):
            terms = [t.replace('\\"', '"').replace("\\\\", "\\")
                     for t in re.findall(r'\?"((?:[^"\\]|\\.)*)"', req["filterPattern"])]
            out["events"] = [e for e in out.get("events", [])
                             if any(t in e.get("message", "") for t in terms)]
        else:
            return data
        return json.dumps(out).encode()


def start(moto_url, latency_ms):
    """Starts the proxy; returns (server, url)."""
    return live.start_delay_proxy(moto_url, latency_ms, handler_base=_Model)
