"""`whitemagic mcp` over stdio (what an IDE launches), driven by the official MCP SDK against
the same database as the running server, and `whitemagic mcp config`."""

import json
import os
import subprocess

import anyio

from mcp_support import TOOLS, call, new_account, ok, stdio_session, tool_error


def test_stdio_tools_act_for_the_user_and_match_rest(server):
    email, key = new_account(server)
    base = server["base"]

    def get(path):
        return call("GET", f"{base}/api/v1{path}", key=key)

    async def scenario():
        # Logs go to stderr; anything on stdout that is not protocol would break the SDK.
        async with stdio_session(server, ["--user", email], env={"LOG_LEVEL": "debug,sqlx=warn"}) as s:
            assert {t.name for t in (await s.list_tools()).tools} == TOOLS
            made = await ok(s, "create_memory", {"title": "From the IDE", "content": "stdio works", "tags": ["ide"]})
            assert get(f"/memories/{made['id']}").json()["title"] == "From the IDE"
            via_rest = call("POST", f"{base}/api/v1/memories", key=key,
                            json={"title": "From REST", "content": "seen over stdio", "type": "long_term"}).json()
            assert (await ok(s, "get_memory", {"id": via_rest["id"]}))["content"] == "seen over stdio"
            assert (await ok(s, "update_memory", {"id": made["id"], "add_tags": ["more"]}))["tags"] == ["ide", "more"]
            ids = [m["id"] for m in (await ok(s, "list_memories"))["memories"]]
            assert ids == [m["id"] for m in get("/memories").json()["memories"]]
            found = await ok(s, "search_memories", {"query": "works"})
            assert [r["memory"]["id"] for r in found["results"]] == [made["id"]]
            assert made["id"] in (await ok(s, "get_context", {"tier": 2}))["included_ids"]
            assert (await ok(s, "consolidate", {}))["dry_run"] is True
            assert await ok(s, "list_tags") == get("/tags").json()
            assert await ok(s, "get_stats") == get("/stats").json()
            assert (await ok(s, "delete_memory", {"id": made["id"]}))["outcome"] == "archived"
            assert (await ok(s, "restore_memory", {"id": made["id"]}))["status"] == "active"
            assert (await ok(s, "delete_memory", {"id": via_rest["id"], "permanent": True}))["outcome"] == "deleted"
            assert get(f"/memories/{via_rest['id']}").status_code == 404
            err = await tool_error(s, "get_memory", {"id": via_rest["id"]})
            assert err == {"code": "not_found", "message": "memory not found"}
            err = await tool_error(s, "create_memory", {"title": "x"})
            assert err["details"] == {"field": "content"}
            resources = [r.uri for r in (await s.list_resources()).resources]
            assert f"memory://memories/{made['id']}" in resources
            stats = json.loads((await s.read_resource("memory://stats")).contents[0].text)
            assert stats == get("/stats").json()

    anyio.run(scenario)


def test_stdio_with_an_api_key_from_the_environment(server):
    _, key = new_account(server)

    async def scenario():
        async with stdio_session(server, [], env={"WM_MCP_API_KEY": key}) as s:
            await ok(s, "create_memory", {"title": "keyed", "content": "via WM_MCP_API_KEY"})
            assert (await ok(s, "get_stats"))["total"] == 1

    anyio.run(scenario)
    bad = subprocess.run([server["binary"], "mcp", "--key", "wm_test_NoSuchKeyNoSuchKeyNoSuchKey00001"],
                         env={"PATH": os.environ["PATH"], "DATABASE_URL": server["database_url"], "WM_ENV": "test"},
                         input=b"", capture_output=True, timeout=60, cwd=server["workdir"])
    assert bad.returncode != 0 and b"unknown API key" in bad.stderr and bad.stdout == b""
    neither = subprocess.run([server["binary"], "mcp"], env={"PATH": os.environ["PATH"],
                             "DATABASE_URL": server["database_url"]}, input=b"", capture_output=True, timeout=60)
    assert neither.returncode != 0 and b"--user" in neither.stderr


def test_mcp_config_prints_each_clients_snippet(server):
    def snippet(*args):
        out = subprocess.run([server["binary"], "mcp", "config", *args], capture_output=True, timeout=60,
                             env={"PATH": os.environ["PATH"], "DATABASE_URL": server["database_url"]})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    url = "https://wm.example.com/mcp"
    for client in ("cursor", "claude-desktop", "windsurf"):
        local = snippet("--client", client, "--user", "me@example.com")["mcpServers"]["whitemagic"]
        assert local["command"] == server["binary"] or local["command"].endswith("whitemagic")
        assert local["args"] == ["mcp", "--user", "me@example.com"]
        assert local["env"]["DATABASE_URL"] == server["database_url"]
    assert snippet("--client", "cursor", "--http", url)["mcpServers"]["whitemagic"] == {
        "url": url, "headers": {"Authorization": "Bearer ${env:WHITEMAGIC_API_KEY}"}}
    assert snippet("--client", "windsurf", "--http", url)["mcpServers"]["whitemagic"]["serverUrl"] == url
    claude = snippet("--client", "claude-desktop", "--http", url)["mcpServers"]["whitemagic"]
    assert claude["command"] == "npx" and url in claude["args"]
    vscode = snippet("--client", "vscode", "--http", url)
    assert vscode["servers"]["whitemagic"] == {
        "type": "http", "url": url, "headers": {"Authorization": "Bearer ${input:whitemagic-api-key}"}}
    assert vscode["inputs"][0]["id"] == "whitemagic-api-key" and vscode["inputs"][0]["password"] is True
    keyed = snippet("--client", "vscode")["servers"]["whitemagic"]
    assert keyed["type"] == "stdio" and keyed["args"] == ["mcp"] and "WM_MCP_API_KEY" in keyed["env"]
    bad = subprocess.run([server["binary"], "mcp", "config", "--client", "emacs"], capture_output=True, timeout=60)
    assert bad.returncode != 0
