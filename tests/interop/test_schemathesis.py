"""Schemathesis generates requests from our OpenAPI document (valid and invalid) and checks the
responses: never a 5xx, invalid requests rejected, and every response conforms to the documented
status codes, content types and schemas.

One built-in check is left out: `positive_data_acceptance` demands that every schema-valid request
succeeds, but the API validates beyond what a schema can say (an unknown plan name, an email
already taken, an id that does not exist) and answers those with a documented 4xx."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

SKIP = [positive_data_acceptance]

# `POST /api/v1/import` takes a zip archive as raw bytes: send generated bodies as binary.
schemathesis.serializer.alias("application/zip", "application/octet-stream")
schemathesis.serializer.alias("application/x-zip-compressed", "application/octet-stream")


@pytest.fixture(scope="session")
def api_schema(server):
    schema = schemathesis.openapi.from_url(f"{server['base']}/openapi.json")
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_as_a_user(case, user_key, server):
    # Keep the generated calls away from the user's own keys so the session stays authenticated.
    if case.method == "DELETE" and case.path == "/api/v1/user/keys/{id}":
        pytest.skip("would revoke the key under test")
    if case.path == "/api/v1/user/keys/{id}/rotate":
        pytest.skip("would expire the key under test")
    case.call_and_validate(headers={"Authorization": f"Bearer {user_key}"}, excluded_checks=SKIP)


@schema.include(path_regex="^/api/v1/admin/").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_admin_api_conforms(case, server):
    case.call_and_validate(headers={"Authorization": f"Bearer {server['admin_key']}"}, excluded_checks=SKIP)


def test_server_stayed_healthy(server):
    assert requests.get(f"{server['base']}/health").json()["status"] == "healthy"
