"""Benchmark (not a test): tool-call latency over MCP streamable HTTP vs the same operation over
REST, same server, same account, same run. Run through `scripts/bench/mcp-latency`.

Three clients per operation, interleaved call by call so drift hits all alike:
  rest      requests.Session (keep-alive) -> POST /api/v1/memories | /api/v1/search
  mcp-sdk   the official MCP SDK (ClientSession over streamable_http_client) -> tools/call
  mcp-raw   requests.Session posting the JSON-RPC tools/call on the same kind of MCP session
            (separates the server's cost from the Python SDK's own)
"""

import json
import os
import statistics
import sys
import time

import anyio
import httpx2
import requests
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

BASE = sys.argv[1]
ADMIN = sys.argv[2]
N = int(os.environ.get("N", "300"))
SEED = int(os.environ.get("SEED", "1000"))
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar".split()


def account():
    h = {"Authorization": f"Bearer {ADMIN}"}
    u = requests.post(f"{BASE}/api/v1/admin/users", json={"email": f"bench-{time.time_ns()}@example.com",
                                                          "plan": "enterprise"}, headers=h)
    u.raise_for_status()
    k = requests.post(f"{BASE}/api/v1/admin/users/{u.json()['id']}/keys", json={"name": "bench"}, headers=h)
    k.raise_for_status()
    return k.json()["key"]


def text(i):
    return " ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(40)) + f" note {i}"


def raw_session(key):
    """An MCP session opened with plain HTTP; returns a function calling one tool on it."""
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"})
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
    r = s.post(f"{BASE}/mcp", json=init)
    r.raise_for_status()
    s.headers.update({"mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18"})
    s.post(f"{BASE}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}).raise_for_status()
    counter = iter(range(1, 10**9))

    def call(tool, args):
        body = {"jsonrpc": "2.0", "id": next(counter), "method": "tools/call", "params": {"name": tool, "arguments": args}}
        r = s.post(f"{BASE}/mcp", json=body)
        assert r.status_code == 200 and '"isError":false' in r.text, r.text[:300]

    return call


def summary(samples):
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2), "mean_ms": round(statistics.mean(samples) * 1000, 2)}


async def main():
    key = account()
    rest = requests.Session()
    rest.headers.update({"Authorization": f"Bearer {key}"})
    for start in range(0, SEED, 100):
        batch = [{"title": f"Seed {i} {WORDS[i % len(WORDS)]}", "content": text(i), "tags": [WORDS[i % 5]]}
                 for i in range(start, min(start + 100, SEED))]
        rest.post(f"{BASE}/api/v1/memories/batch", json={"memories": batch}).raise_for_status()
    raw = raw_session(key)
    times = {op: {c: [] for c in ("rest", "mcp-sdk", "mcp-raw")} for op in ("create_memory", "search_memories")}

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        async with streamable_http_client(f"{BASE}/mcp", http_client=http) as (read, write):
            async with ClientSession(read, write) as sdk:
                await sdk.initialize()
                for i in range(N + 20):  # the first 20 rounds warm up and are not counted
                    create = {"title": f"Bench {i}", "content": text(i), "tags": ["bench"]}
                    search = {"query": WORDS[i % len(WORDS)] + " " + WORDS[(i + 3) % len(WORDS)], "limit": 10}
                    for op, args, path in (("create_memory", create, "/api/v1/memories"),
                                           ("search_memories", search, "/api/v1/search")):
                        t = time.perf_counter()
                        r = rest.post(f"{BASE}{path}", json=args)
                        t_rest = time.perf_counter() - t
                        assert r.status_code in (200, 201), r.text
                        t = time.perf_counter()
                        res = await sdk.call_tool(op, args)
                        t_sdk = time.perf_counter() - t
                        assert not res.is_error, res.content
                        t = time.perf_counter()
                        raw(op, args)
                        t_raw = time.perf_counter() - t
                        if i >= 20:
                            times[op]["rest"].append(t_rest)
                            times[op]["mcp-sdk"].append(t_sdk)
                            times[op]["mcp-raw"].append(t_raw)

    result = {op: {c: summary(v) for c, v in by.items()} for op, by in times.items()}
    print(json.dumps({"calls_per_client": N, "seeded_memories": SEED, "results": result}, indent=2))


anyio.run(main)
