"""A real MCP client (the official Python SDK) driving `sickbay mcp` over stdio.

Usage: python mcp_client.py SICKBAY_BINARY. Prints one JSON object summarising what the
client saw; tests/mcp.rs asserts on it. The client validates every structured result
against the tool's declared output schema, so a report that drifts from its schema fails.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import ClientSession, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client

SECRET = "Zq8McpLeakXy7"


def text_of(result):
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def main(binary):
    params = StdioServerParameters(
        command=binary,
        args=["mcp"],
        env={"AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1"},
    )
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = init.server_info.name
            listed = await session.list_tools()
            out["tools"] = sorted(t.name for t in listed.tools)
            out["object_schemas"] = all(t.input_schema.get("type") == "object" for t in listed.tools)
            out["read_only"] = all(
                t.annotations is not None and t.annotations.read_only_hint for t in listed.tools
            )

            r = await session.call_tool(
                "doctor",
                {"snapshot": "fixtures/incidents/002-hydrous-arm64-image/snapshot.json"},
            )
            out["doctor"] = {
                "is_error": bool(r.is_error),
                "top": r.structured_content["summary"].get("top"),
                "markdown": text_of(r).splitlines()[0] if text_of(r) else "",
            }

            r = await session.call_tool("lint", {"paths": ["fixtures/lint/000-supabase-ecs"]})
            out["lint"] = {
                "is_error": bool(r.is_error),
                "rules": sorted({f["rule"] for f in r.structured_content["findings"]}),
                "located": all(
                    e.get("line") for f in r.structured_content["findings"] for e in f["evidence"]
                ),
            }

            r = await session.call_tool(
                "scan",
                {"text": f"PGPASSWORD={SECRET} psql: FATAL: password authentication failed for user \"app\"\n"},
            )
            out["scan"] = {
                "is_error": bool(r.is_error),
                "rules": [f["rule"] for f in r.structured_content["findings"]],
                "leaks": SECRET in json.dumps(r.structured_content) or SECRET in text_of(r),
            }

            r = await session.call_tool("explain_rule", {"id": "NET001"})
            out["explain"] = {"is_error": bool(r.is_error), "has_fix": "fix" in text_of(r).lower()}

            r = await session.call_tool("iam_policy", {})
            out["iam"] = {"is_error": bool(r.is_error), "version": r.structured_content.get("Version")}

            r = await session.call_tool("doctor", {"snapshot": "no/such/snapshot.json"})
            out["missing_snapshot"] = {"is_error": bool(r.is_error), "message": text_of(r)}

            r = await session.call_tool(
                "doctor",
                {"snapshot": "fixtures/incidents/002-hydrous-arm64-image/snapshot.json", "cluster": "prod"},
            )
            out["conflict"] = {"is_error": bool(r.is_error), "one_line": "\n" not in text_of(r)}

            r = await session.call_tool(
                "db_probe", {"url": f"postgres://app:{SECRET}@/nohost", "connect_timeout": 1}
            )
            out["bad_url"] = {"is_error": bool(r.is_error), "leaks": SECRET in text_of(r)}

            try:
                await session.call_tool("no_such_tool", {})
                out["unknown_tool"] = "no error"
            except MCPError as e:
                out["unknown_tool"] = e.code
    print(json.dumps(out, indent=2, sort_keys=True))


asyncio.run(main(sys.argv[1]))
