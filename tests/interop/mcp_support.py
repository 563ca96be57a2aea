"""Helpers for the MCP interop tests: accounts made through the admin API, MCP sessions opened
with the official SDK (`mcp` on PyPI) over streamable HTTP or stdio, and the REST view of the
same account to compare against."""

import contextlib
import json
import time
import uuid

import httpx2
import requests
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {
    "create_memory", "get_memory", "update_memory", "delete_memory", "restore_memory", "list_memories",
    "search_memories", "get_context", "consolidate", "list_tags", "get_stats",
}
READ_ONLY = {"get_memory", "list_memories", "search_memories", "get_context", "list_tags", "get_stats"}


def call(method, url, *, key=None, retries=20, **kwargs):
    """A REST call; waits out a 429 (the admin's own plan is limited too) a bounded number of times."""
    headers = kwargs.pop("headers", {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    for _ in range(retries):
        r = requests.request(method, url, headers=headers, timeout=30, **kwargs)
        if r.status_code != 429:
            return r
        time.sleep(min(int(r.headers.get("Retry-After", "1")), 10))
    return r


def new_account(server, plan="enterprise", prefix="mcp"):
    """A fresh user on `plan` and one API key: (email, key)."""
    base, admin = server["base"], server["admin_key"]
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    r = call("POST", f"{base}/api/v1/admin/users", key=admin, json={"email": email, "plan": plan})
    assert r.status_code == 201, r.text
    k = call("POST", f"{base}/api/v1/admin/users/{r.json()['id']}/keys", key=admin, json={"name": "mcp"})
    assert k.status_code == 201, k.text
    return email, k.json()["key"]


def put_plan(server, name, **limits):
    """Create or replace a plan through the admin API."""
    body = {"per_minute": 1000, "daily": 100000, "monthly": 1000000, "memories": 10000,
            "storage_bytes": 100_000_000, **limits}
    r = call("PUT", f"{server['base']}/api/v1/admin/plans/{name}", key=server["admin_key"], json=body)
    assert r.status_code in (200, 201), r.text


@contextlib.asynccontextmanager
async def http_session(server, key):
    """An initialized MCP session over streamable HTTP with `Authorization: Bearer key`."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as client:
        async with streamable_http_client(f"{server['base']}/mcp", http_client=client) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


@contextlib.asynccontextmanager
async def stdio_session(server, args, env=None):
    """An initialized MCP session with `whitemagic mcp ARGS` on the server's database."""
    params = StdioServerParameters(
        command=server["binary"], args=["mcp", *args],
        env={"DATABASE_URL": server["database_url"], "WM_ENV": "test", "LOG_LEVEL": "info", **(env or {})},
        cwd=server["workdir"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def ok(session, tool, args=None):
    """Call a tool that must succeed; its structured content."""
    result = await session.call_tool(tool, args or {})
    assert not result.is_error, f"{tool}: {result.content[0].text}"
    assert result.content and result.content[0].text, f"{tool}: no text rendering"
    return result.structured_content


async def tool_error(session, tool, args):
    """Call a tool that must fail; the REST-style error object `{"code", "message", ...}`."""
    result = await session.call_tool(tool, args)
    assert result.is_error, f"{tool} succeeded: {result.structured_content}"
    return json.loads(result.content[0].text)["error"]
