"""The MCP server over streamable HTTP (`/mcp`), driven by the official MCP SDK and checked
against the REST API's view of the same account."""

import json

import anyio
import requests
from mcp.types import PaginatedRequestParams

from mcp_support import (READ_ONLY, TOOLS, call, http_session, new_account, ok, put_plan, tool_error)


def rest(server, key):
    """REST helpers bound to one key."""
    base = server["base"]

    def get(path, **kw):
        return call("GET", f"{base}/api/v1{path}", key=key, **kw)

    def post(path, body=None):
        return call("POST", f"{base}/api/v1{path}", key=key, json=body if body is not None else {})

    return get, post


def test_missing_or_bad_key_is_refused(server):
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in (None, "Bearer wm_test_NoSuchKeyNoSuchKeyNoSuchKey00001", "Bearer nonsense", "Basic abc"):
        h = dict(headers, **({"Authorization": auth} if auth else {}))
        r = requests.post(f"{server['base']}/mcp", json=body, headers=h, timeout=10)
        assert r.status_code == 401, (auth, r.status_code, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"

    async def sdk_with_bad_key():
        try:
            async with http_session(server, "wm_test_NoSuchKeyNoSuchKeyNoSuchKey00001"):
                pass
        except BaseException as e:  # the SDK raises (an ExceptionGroup from its task group)
            return e
        return None

    assert anyio.run(sdk_with_bad_key) is not None, "a bad key must not open a session"


def test_every_tool_matches_rest(server):
    _, key = new_account(server)
    get, post = rest(server, key)

    async def scenario():
        async with http_session(server, key) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == TOOLS
            for name, tool in tools.items():
                assert tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
                hints = tool.annotations
                assert hints.read_only_hint == (name in READ_ONLY), name
                assert hints.destructive_hint == (name in {"delete_memory", "update_memory", "consolidate"}), name
            assert tools["create_memory"].input_schema["required"] == ["title", "content"]

            made = await ok(s, "create_memory", {"title": "Rust tip", "content": "Prefer iterators over loops.",
                                                 "tags": ["Rust", "tips"], "metadata": {"source": "mcp"}})
            other = await ok(s, "create_memory", {"title": "Decision", "content": "Use PostgreSQL in production.",
                                                  "type": "long_term", "tags": ["decision"]})
            seen = get(f"/memories/{made['id']}").json()
            for field in ("id", "title", "content", "type", "status", "tags", "metadata", "scope", "created_at"):
                assert seen[field] == made[field], field
            assert made["tags"] == ["rust", "tips"]

            got = await ok(s, "get_memory", {"id": made["id"]})
            assert {k: v for k, v in got.items() if k != "accessed_at"} == \
                {k: v for k, v in get(f"/memories/{made['id']}").json().items() if k != "accessed_at"}

            changed = await ok(s, "update_memory", {"id": made["id"], "title": "Rust iterators", "add_tags": ["perf"]})
            assert changed["title"] == "Rust iterators" and changed["tags"] == ["rust", "tips", "perf"]
            assert get(f"/memories/{made['id']}").json()["title"] == "Rust iterators"

            page = await ok(s, "list_memories", {"limit": 10})
            assert [m["id"] for m in page["memories"]] == [m["id"] for m in get("/memories?limit=10").json()["memories"]]

            query = {"query": "iterators"}
            found = await ok(s, "search_memories", query)
            assert [r["memory"]["id"] for r in found["results"]] == [made["id"]]
            assert found["count"] == post("/search", query).json()["count"]

            ctx = await ok(s, "get_context", {"tier": 2, "max_tokens": 2000})
            rest_ctx = post("/context", {"tier": 2, "max_tokens": 2000}).json()
            assert ctx["context"] == rest_ctx["context"] and ctx["included_ids"] == rest_ctx["included_ids"]
            assert ctx["token_count"] <= 2000 and made["id"] in ctx["included_ids"]

            dry = await ok(s, "consolidate", {})
            assert dry["dry_run"] is True and dry["report"]["dry_run"] is True
            rest_dry = post("/consolidate", {}).json()
            for field in ("archived_count", "promoted_count", "merged_groups", "digest_count"):
                assert dry["report"][field] == rest_dry["report"][field], field

            assert await ok(s, "list_tags") == get("/tags").json()
            assert await ok(s, "get_stats") == get("/stats").json()

            archived = await ok(s, "delete_memory", {"id": made["id"]})
            assert archived["outcome"] == "archived" and archived["memory"]["status"] == "archived"
            assert get(f"/memories/{made['id']}").json()["status"] == "archived"
            restored = await ok(s, "restore_memory", {"id": made["id"]})
            assert restored["status"] == "active" and get(f"/memories/{made['id']}").json()["status"] == "active"
            gone = await ok(s, "delete_memory", {"id": other["id"], "permanent": True})
            assert gone == {"id": other["id"], "outcome": "deleted"}
            assert get(f"/memories/{other['id']}").status_code == 404

            # A memory made over REST is there over MCP.
            via_rest = post("/memories", {"title": "From REST", "content": "made with requests"}).json()
            assert (await ok(s, "get_memory", {"id": via_rest["id"]}))["title"] == "From REST"

    anyio.run(scenario)


def test_errors_carry_the_rest_code_and_message(server):
    _, key = new_account(server)
    get, post = rest(server, key)

    async def scenario():
        async with http_session(server, key) as s:
            missing = "01890000-0000-7000-8000-000000000000"
            err = await tool_error(s, "get_memory", {"id": missing})
            assert err == {"code": "not_found", "message": get(f"/memories/{missing}").json()["error"]["message"]}

            made = await ok(s, "create_memory", {"title": "t", "content": "c"})
            err = await tool_error(s, "restore_memory", {"id": made["id"]})
            rest_err = post(f"/memories/{made['id']}/restore").json()["error"]
            assert (err["code"], err["message"]) == (rest_err["code"], rest_err["message"]) and err["code"] == "conflict"

            err = await tool_error(s, "create_memory", {"title": "   ", "content": "c"})
            rest_err = post("/memories", {"title": "   ", "content": "c"}).json()["error"]
            assert err == {"code": "validation_failed", "message": rest_err["message"], "details": {"field": "title"}}
            assert rest_err["details"] == {"field": "title"}

            err = await tool_error(s, "search_memories", {"limit": 1000})
            assert err["message"] == post("/search", {"limit": 1000}).json()["error"]["message"]

    anyio.run(scenario)


def test_bad_arguments_are_tool_errors_naming_the_field_and_the_session_survives(server):
    _, key = new_account(server)

    async def scenario():
        async with http_session(server, key) as s:
            cases = [
                ("create_memory", {"content": "no title"}, "title"),                    # missing required
                ("create_memory", {"title": 5, "content": "x"}, "title"),               # wrong type
                ("create_memory", {"title": "t", "content": "x", "colour": "red"}, "colour"),  # unknown field
                ("create_memory", {"title": "t", "content": "x", "tags": ["ok", 7]}, "tags[1]"),
                ("create_memory", {"title": "t", "content": "x", "type": "forever"}, "type"),
                ("get_memory", {"id": "not-a-uuid"}, "id"),
                ("get_memory", {}, "id"),
                ("update_memory", {"title": "no id"}, "id"),
                ("delete_memory", {"id": "01890000-0000-7000-8000-000000000000", "permanent": "yes"}, "permanent"),
                ("list_memories", {"limit": "ten"}, "limit"),
                ("get_context", {"tier": 7}, "tier"),
                ("consolidate", {"dry_run": "no"}, "dry_run"),
                ("list_tags", {"extra": 1}, "extra"),
            ]
            for tool, args, field in cases:
                err = await tool_error(s, tool, args)
                assert err["code"] == "validation_failed", (tool, args, err)
                assert err["details"]["field"] == field, (tool, args, err)
                assert err["message"].startswith(f"{field}: "), (tool, args, err)
            # The session is intact.
            assert (await ok(s, "get_stats"))["total"] == 0
            try:  # an unknown tool is a protocol error (or a tool error): either way the session lives on
                assert (await s.call_tool("no_such_tool", {})).is_error
            except Exception as e:
                assert "no_such_tool" in str(e) or "not found" in str(e).lower(), e
            assert (await ok(s, "list_tags")) == {"tags": []}

    anyio.run(scenario)


def test_resources_are_paginated_and_match_rest(server):
    _, key = new_account(server)
    get, post = rest(server, key)
    batch = [{"title": f"Note {i}", "content": f"content {i}", "tags": ["bulk"]} for i in range(55)]
    assert post("/memories/batch", {"memories": batch}).status_code == 201
    post("/memories", {"title": "Durable", "content": "long-term fact", "type": "long_term"})

    async def scenario():
        async with http_session(server, key) as s:
            first = await s.list_resources()
            uris = [r.uri for r in first.resources]
            assert uris[:4] == ["memory://short_term", "memory://long_term", "memory://stats", "memory://tags"]
            assert len(uris) == 4 + 50 and first.next_cursor
            second = await s.list_resources(params=PaginatedRequestParams(cursor=first.next_cursor))
            assert second.next_cursor is None and len(second.resources) == 6
            listed = {u.removeprefix("memory://memories/") for u in uris[4:] + [r.uri for r in second.resources]}
            rest_ids = {m["id"] for m in get("/memories?limit=100").json()["memories"]}
            assert listed == rest_ids

            templates = await s.list_resource_templates()
            assert [t.uri_template for t in templates.resource_templates] == ["memory://memories/{id}"]

            stats = await s.read_resource("memory://stats")
            assert stats.contents[0].mime_type == "application/json"
            assert json.loads(stats.contents[0].text) == get("/stats").json()
            assert json.loads((await s.read_resource("memory://tags")).contents[0].text) == get("/tags").json()

            short = json.loads((await s.read_resource("memory://short_term")).contents[0].text)
            assert len(short["memories"]) == 50 and short["next_uri"].startswith("memory://short_term?cursor=")
            rest_short = [m["id"] for m in get("/memories?type=short_term&limit=50").json()["memories"]]
            assert [m["id"] for m in short["memories"]] == rest_short
            rest_of = json.loads((await s.read_resource(short["next_uri"])).contents[0].text)
            assert len(rest_of["memories"]) == 5 and rest_of["next_uri"] is None
            long = json.loads((await s.read_resource("memory://long_term")).contents[0].text)
            assert [m["title"] for m in long["memories"]] == ["Durable"]

            one = long["memories"][0]
            text = (await s.read_resource(one["uri"])).contents[0].text
            assert text.startswith("---\n") and f"id: {one['id']}" in text and text.endswith("long-term fact")

    anyio.run(scenario)


def test_two_keys_of_two_users_never_see_each_others_memories(server):
    _, key_a = new_account(server)
    _, key_b = new_account(server)

    async def scenario():
        async with http_session(server, key_a) as a, http_session(server, key_b) as b:
            mine = await ok(a, "create_memory", {"title": "Alice secret", "content": "only for alice"})
            theirs = await ok(b, "create_memory", {"title": "Bob secret", "content": "only for bob"})
            assert [m["id"] for m in (await ok(a, "list_memories"))["memories"]] == [mine["id"]]
            assert [m["id"] for m in (await ok(b, "list_memories"))["memories"]] == [theirs["id"]]
            assert (await ok(a, "search_memories", {"query": "secret"}))["count"] == 1
            assert (await tool_error(a, "get_memory", {"id": theirs["id"]}))["code"] == "not_found"
            assert (await tool_error(a, "delete_memory", {"id": theirs["id"], "permanent": True}))["code"] == "not_found"
            assert (await ok(b, "get_memory", {"id": theirs["id"]}))["title"] == "Bob secret"
            ctx = await ok(a, "get_context", {"tier": 2})
            assert "Bob" not in ctx["context"]
            uris = [r.uri for r in (await a.list_resources()).resources]
            assert f"memory://memories/{theirs['id']}" not in uris
            try:
                await a.read_resource(f"memory://memories/{theirs['id']}")
                raise AssertionError("read another account's memory")
            except Exception as e:  # the SDK raises McpError for a JSON-RPC error
                assert "not found" in str(e)

    anyio.run(scenario)


def test_a_session_is_bound_to_its_account(server):
    _, key_a = new_account(server)
    _, key_b = new_account(server)
    url = f"{server['base']}/mcp"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = requests.post(url, json=init, headers=dict(headers, Authorization=f"Bearer {key_a}"), timeout=10)
    assert r.status_code == 200, r.text
    session = r.headers["mcp-session-id"]
    on_session = dict(headers, **{"mcp-session-id": session, "mcp-protocol-version": "2025-06-18"})
    call_tool = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_stats", "arguments": {}}}
    refused = requests.post(url, json=call_tool, headers=dict(on_session, Authorization=f"Bearer {key_b}"), timeout=10)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    missing = requests.post(url, json=call_tool, headers=on_session, timeout=10)
    assert missing.status_code == 401
    killed = requests.delete(url, headers=dict(on_session, Authorization=f"Bearer {key_b}"), timeout=10)
    assert killed.status_code == 403
    notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert requests.post(url, json=notified, headers=dict(on_session, Authorization=f"Bearer {key_a}"),
                         timeout=10).status_code == 202
    own = requests.post(url, json=call_tool, headers=dict(on_session, Authorization=f"Bearer {key_a}"), timeout=10)
    assert own.status_code == 200 and '"total":0' in own.text.replace(" ", ""), own.text
    assert requests.get(url, headers=dict(on_session, Authorization=f"Bearer {key_a}"), timeout=10).status_code == 405
    assert requests.delete(url, headers=dict(on_session, Authorization=f"Bearer {key_a}"), timeout=10).ok


def test_a_plans_rate_limit_applies_to_tool_calls(server):
    put_plan(server, "mcp-tiny", per_minute=3)
    _, key = new_account(server, plan="mcp-tiny")

    async def scenario():
        async with http_session(server, key) as s:
            for _ in range(3):
                await ok(s, "list_tags")
            err = await tool_error(s, "list_tags", {})
            assert err["code"] == "rate_limited", err
            assert err["details"]["limit"] == "per_minute" and err["details"]["max"] == 3
            assert err["message"].startswith("per_minute rate limit of 3 requests reached; retry in ")
            # The account's limit is shared with REST.
            r = requests.get(f"{server['base']}/api/v1/tags", headers={"Authorization": f"Bearer {key}"}, timeout=10)
            assert r.status_code == 429 and r.json()["error"]["message"].startswith(err["message"][:40])

    anyio.run(scenario)


def test_tool_calls_are_metered_like_rest_requests(server):
    _, key = new_account(server)

    async def scenario():
        async with http_session(server, key) as s:
            await ok(s, "create_memory", {"title": "metered", "content": "x"})
            await ok(s, "search_memories", {"query": "metered"})
            await tool_error(s, "get_memory", {"id": "01890000-0000-7000-8000-000000000000"})
            await s.read_resource("memory://stats")
            await s.list_tools()  # protocol traffic, not a request of the account

    anyio.run(scenario)
    usage = call("GET", f"{server['base']}/api/v1/user/usage?days=1", key=key).json()
    today = usage["days"][-1]
    assert today["requests"] == 4, today
    assert today["by_group"] == {"memories": 2, "search": 1, "stats": 1}, today
    assert today["by_status"] == {"2xx": 3, "4xx": 1}, today


def test_a_plan_without_mcp_cannot_call_tools(server):
    put_plan(server, "rest-only", features={"mcp": False})
    _, key = new_account(server, plan="rest-only")

    async def scenario():
        async with http_session(server, key) as s:
            err = await tool_error(s, "get_stats", {})
            assert err == {"code": "forbidden", "message": "the rest-only plan does not include the MCP server"}

    anyio.run(scenario)


def test_a_modern_stateless_client_works_too(server):
    """The SDK's default `Client` negotiates the 2026-07-28 protocol (no session) when offered."""
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client
    _, key = new_account(server)

    async def scenario():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            async with Client(streamable_http_client(f"{server['base']}/mcp", http_client=http), mode="auto") as c:
                assert c.session.discover_result is not None
                made = await c.call_tool("create_memory", {"title": "stateless", "content": "x"})
                assert not made.is_error
                stats = await c.call_tool("get_stats", {})
                assert stats.structured_content["total"] == 1

    anyio.run(scenario)
