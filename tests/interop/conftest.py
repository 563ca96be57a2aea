"""Fixtures: a real `whitemagic serve` process on a free port with a fresh SQLite database
(or DATABASE_URL from WM_INTEROP_DATABASE_URL), and a seeded admin key."""

import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ADMIN_KEY = "wm_test_InteropInteropInteropInterop0001"
ADMIN_EMAIL = "interop-admin@example.com"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    binary = os.environ.get("WM_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/whitemagic"))
    workdir = tempfile.mkdtemp(prefix="wm-interop-")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "WM_SEED_ADMIN_KEY": ADMIN_KEY,
        "WM_SEED_ADMIN_EMAIL": ADMIN_EMAIL,
        "WM_ENV": "test",
        "LOG_LEVEL": "warn",
    }
    # An explicit database URL, so other `whitemagic` processes (e.g. `whitemagic mcp`) can share it.
    env["DATABASE_URL"] = os.environ.get("WM_INTEROP_DATABASE_URL") or f"sqlite://{workdir}/whitemagic.db"
    log = open(os.path.join(workdir, "server.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"], cwd=workdir, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(open(os.path.join(workdir, "server.log")).read())
        time.sleep(0.1)
    yield {"base": base, "admin_key": ADMIN_KEY, "log": os.path.join(workdir, "server.log"),
           "binary": binary, "database_url": env["DATABASE_URL"], "workdir": workdir}
    proc.terminate()
    assert proc.wait(timeout=30) == 0, open(os.path.join(workdir, "server.log")).read()


@pytest.fixture(scope="session")
def user_key(server):
    """A plain user's key, created through the admin API."""
    h = {"Authorization": f"Bearer {server['admin_key']}"}
    r = requests.post(f"{server['base']}/api/v1/admin/users", json={"email": "interop-user@example.com"}, headers=h)
    assert r.status_code == 201, r.text
    k = requests.post(f"{server['base']}/api/v1/admin/users/{r.json()['id']}/keys", json={"name": "interop"}, headers=h)
    assert k.status_code == 201, k.text
    return k.json()["key"]
