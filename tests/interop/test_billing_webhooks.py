"""Billing webhooks signed by the providers' and protocol owners' own libraries, against the real
binary: Whop events signed with the `standardwebhooks` package, Stripe events signed with Stripe's
Node SDK (`stripe.webhooks.generateTestHeaderString`, via stripe_sign.mjs). Authentic deliveries
are accepted (2xx); tampered, wrongly signed, stale and header-less ones are refused (4xx)."""

import base64
import json
import os
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from standardwebhooks.webhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_KEY = "wm_test_BillingInteropBillingInterop0001"
STRIPE_SECRET = "whsec_interop_stripe_endpoint_secret"
WHOP_SECRET = "whsec_" + base64.b64encode(b"interop-whop-signing-key-32-bytes").decode()
RC_SECRET = "rc_interop_secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def billing_server():
    """`whitemagic serve` with the three webhook secrets and a plan map, on a fresh SQLite file."""
    binary = os.environ.get("WM_BIN", os.path.join(HERE, "../../target/debug/whitemagic"))
    workdir = tempfile.mkdtemp(prefix="wm-interop-billing-")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "WM_ENV": "test",
        "LOG_LEVEL": "warn",
        "WM_SEED_ADMIN_KEY": ADMIN_KEY,
        "WM_SEED_ADMIN_EMAIL": "billing-admin@example.com",
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "WHOP_WEBHOOK_SECRET": WHOP_SECRET,
        "REVENUECAT_WEBHOOK_SECRET": RC_SECRET,
        "WM_PLAN_MAP": "stripe:price_interop_pro=pro,whop:plan_interop=starter",
        "WM_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    if os.environ.get("WM_INTEROP_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["WM_INTEROP_DATABASE_URL"]
    log_path = os.path.join(workdir, "server.log")
    log = open(log_path, "w")
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
            raise RuntimeError(open(log_path).read())
        time.sleep(0.1)
    yield base
    proc.terminate()
    assert proc.wait(timeout=30) == 0, open(log_path).read()


def stripe_header(payload: str, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header made by Stripe's own Node SDK."""
    args = ["node", os.path.join(HERE, "stripe_sign.mjs"), secret] + ([str(timestamp)] if timestamp else [])
    done = subprocess.run(args, input=payload.encode(), capture_output=True, cwd=HERE, timeout=60, check=True)
    return done.stdout.decode()


def checkout(evt: str, email: str) -> str:
    return json.dumps({
        "id": evt, "object": "event", "type": "checkout.session.completed", "created": int(time.time()),
        "livemode": False,
        "data": {"object": {
            "id": f"cs_{evt}", "object": "checkout.session", "customer": f"cus_{evt}",
            "customer_details": {"email": email}, "subscription": f"sub_{evt}", "payment_status": "paid",
            "line_items": {"data": [{"price": {"id": "price_interop_pro", "product": "prod_interop"}}]},
        }},
    })


def whop_event(msg: str, email: str) -> str:
    return json.dumps({
        "id": msg, "api_version": "v1", "timestamp": datetime.now(timezone.utc).isoformat(),
        "type": "membership.activated",
        "data": {"id": f"mem_{msg}", "status": "active", "user": {"id": f"user_{msg}", "email": email},
                 "plan": {"id": "plan_interop"}, "product": {"id": "prod_interop"}},
    })


def post(base: str, path: str, body: str, headers: dict) -> requests.Response:
    return requests.post(f"{base}{path}", data=body.encode(), headers={"content-type": "application/json", **headers})


def user_plan(base: str, email: str):
    r = requests.get(f"{base}/api/v1/admin/users", params={"q": email}, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert r.status_code == 200, r.text
    users = [u for u in r.json()["users"] if u["email"] == email]
    return users[0]["plan"] if users else None


def test_stripe_sdk_signed_event_is_accepted_once(billing_server):
    body = checkout("evt_interop_stripe", "stripe-sdk@example.com")
    header = stripe_header(body)
    assert header.startswith("t=") and ",v1=" in header
    r = post(billing_server, "/webhooks/stripe", body, {"Stripe-Signature": header})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processed"
    assert user_plan(billing_server, "stripe-sdk@example.com") == "pro"
    again = post(billing_server, "/webhooks/stripe", body, {"Stripe-Signature": header})
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")


def test_stripe_sdk_signature_refuses_tampering_wrong_secret_and_staleness(billing_server):
    body = checkout("evt_interop_bad", "tampered@example.com")
    header = stripe_header(body)
    tampered = body.replace("tampered@", "attacker@")
    assert post(billing_server, "/webhooks/stripe", tampered, {"Stripe-Signature": header}).status_code == 401
    wrong = stripe_header(body, secret="whsec_someone_else")
    assert post(billing_server, "/webhooks/stripe", body, {"Stripe-Signature": wrong}).status_code == 401
    stale = stripe_header(body, timestamp=int(time.time()) - 600)
    r = post(billing_server, "/webhooks/stripe", body, {"Stripe-Signature": stale})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "stale_webhook")
    assert post(billing_server, "/webhooks/stripe", body, {}).status_code == 400
    assert user_plan(billing_server, "tampered@example.com") is None
    assert user_plan(billing_server, "attacker@example.com") is None


def test_standardwebhooks_signed_whop_event_is_accepted(billing_server):
    body = whop_event("msg_interop_1", "whop-sw@example.com")
    now = datetime.now(timezone.utc)
    signature = Webhook(WHOP_SECRET).sign("msg_interop_1", now, body)
    headers = {"webhook-id": "msg_interop_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature}
    r = post(billing_server, "/webhooks/whop", body, headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processed"
    assert user_plan(billing_server, "whop-sw@example.com") == "starter"
    # The legacy path serves the same endpoint: the same message is a duplicate there.
    r = post(billing_server, "/api/v1/webhooks/whop", body, headers)
    assert (r.status_code, r.json()["status"]) == (200, "duplicate")


def test_standardwebhooks_signature_refuses_tampering_wrong_secret_staleness_and_missing(billing_server):
    body = whop_event("msg_interop_2", "whop-bad@example.com")
    now = datetime.now(timezone.utc)
    good = Webhook(WHOP_SECRET).sign("msg_interop_2", now, body)
    base = {"webhook-id": "msg_interop_2", "webhook-timestamp": str(int(now.timestamp()))}
    tampered = body.replace("whop-bad@", "attacker@")
    assert post(billing_server, "/webhooks/whop", tampered, {**base, "webhook-signature": good}).status_code == 401
    other = Webhook("whsec_" + base64.b64encode(b"another-secret-entirely-32-bytes").decode())
    wrong = other.sign("msg_interop_2", now, body)
    assert post(billing_server, "/webhooks/whop", body, {**base, "webhook-signature": wrong}).status_code == 401
    old = now - timedelta(minutes=10)
    stale = {"webhook-id": "msg_interop_2", "webhook-timestamp": str(int(old.timestamp())),
             "webhook-signature": Webhook(WHOP_SECRET).sign("msg_interop_2", old, body)}
    r = post(billing_server, "/webhooks/whop", body, stale)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "stale_webhook")
    assert post(billing_server, "/webhooks/whop", body, base).status_code == 400
    assert user_plan(billing_server, "whop-bad@example.com") is None


def test_rejections_are_counted_and_nothing_failed(billing_server):
    lines = requests.get(f"{billing_server}/metrics").text.splitlines()

    def count(provider: str, outcome: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines
                   if line.startswith("whitemagic_webhooks_total{")
                   and f'provider="{provider}"' in line and f'outcome="{outcome}"' in line)

    assert count("stripe", "rejected_signature") >= 2
    assert count("whop", "rejected_signature") >= 2
    assert count("stripe", "rejected_stale") >= 1 and count("whop", "rejected_headers") >= 1
    assert count("stripe", "processed") >= 1 and count("whop", "duplicate") >= 1
    health = requests.get(f"{billing_server}/health/webhooks").json()
    assert health["counts"]["failed"] == 0 and health["counts"]["processed"] >= 2, health
