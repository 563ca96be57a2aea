"""The OpenAPI document validates as OpenAPI 3.1 with the reference validator."""

import requests
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator


def test_openapi_json_is_valid_openapi_3_1(server):
    spec = requests.get(f"{server['base']}/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_every_operation_documents_its_errors(server):
    spec = requests.get(f"{server['base']}/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            secured = bool(op.get("security"))
            if secured:
                assert "401" in op["responses"], f"{method.upper()} {path} lacks its 401"
            assert op.get("summary") or op.get("description"), f"{method.upper()} {path} is undocumented"
