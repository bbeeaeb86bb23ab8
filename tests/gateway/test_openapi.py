"""The combined OpenAPI document: every service's public routes in one document for frontend developers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from casefold_local import openapi
from casefold_local.gateway import Gateway
from casefold_local.gateway_config import GatewaySettings, Upstream

# The main paths of API.md (the public contract), as FastAPI spells path parameters.
API_MD_PATHS = {
    ("post", "/api/identity/users"),
    ("post", "/api/identity/email-confirmations"),
    ("post", "/api/identity/sessions"),
    ("post", "/api/identity/sessions/refresh"),
    ("delete", "/api/identity/sessions/current"),
    ("get", "/api/identity/me"),
    ("get", "/api/identity/.well-known/jwks.json"),
    ("get", "/api/cases/products"),
    ("post", "/api/cases"),
    ("get", "/api/cases"),
    ("post", "/api/attachments"),
}
API_MD_TEMPLATED = {
    ("get", "/api/cases/{}"),
    ("post", "/api/cases/{}/comments"),
    ("post", "/api/cases/{}/close"),
    ("get", "/api/attachments/{}"),
    ("get", "/api/notifications/cases/{}/activity"),
    ("get", "/api/notifications/messages/{}"),
}


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def _untemplated(operations: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in operations}


def test_merged_document_has_the_main_paths_of_the_api_contract() -> None:
    document = openapi.build(server_url="http://127.0.0.1:8080")

    operations = _operations(document)
    assert operations >= API_MD_PATHS
    assert _untemplated(operations) >= API_MD_TEMPLATED
    assert document["servers"] == [{"url": "http://127.0.0.1:8080"}]
    assert not [p for p in document["paths"] if not p.startswith("/api/")]


def _doc(schema_name: str, schema: dict[str, Any], path: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {
        "paths": {
            path: {"get": {"operationId": "read", "responses": {"200": {"content": {"x": {"schema": ref}}}}}},
            "/healthz": {"get": {"responses": {}}},
        },
        "components": {"schemas": {schema_name: schema}},
    }


def test_conflicting_schema_names_are_prefixed_and_refs_follow() -> None:
    merged = openapi.merge(
        [
            ("cases", _doc("Item", {"type": "string"}, "/api/cases/x")),
            ("attachments", _doc("Item", {"type": "integer"}, "/api/attachments/x")),
        ]
    )

    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["attachments_Item"] == {"type": "integer"}
    op = merged["paths"]["/api/attachments/x"]["get"]
    assert op["responses"]["200"]["content"]["x"]["schema"]["$ref"] == "#/components/schemas/attachments_Item"
    assert op["operationId"] == "attachments_read"
    assert "/healthz" not in merged["paths"]


def test_identical_schemas_are_shared() -> None:
    merged = openapi.merge(
        [
            ("cases", _doc("Problem", {"type": "object"}, "/api/cases/x")),
            ("attachments", _doc("Problem", {"type": "object"}, "/api/attachments/x")),
        ]
    )

    assert set(merged["components"]["schemas"]) == {"Problem"}


def test_schemas_only_internal_routes_use_stay_out_of_the_public_document() -> None:
    document = _doc("Public", {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Nested"}}},
                    "/api/cases/x")  # fmt: skip
    document["paths"]["/internal/cases/x"] = {
        "post": {"responses": {"201": {"content": {"x": {"schema": {"$ref": "#/components/schemas/Private"}}}}}}
    }
    document["components"]["schemas"] |= {"Nested": {"type": "string"}, "Private": {"type": "object"}}

    merged = openapi.merge([("cases", document)])

    assert set(merged["components"]["schemas"]) == {"Public", "Nested"}
    assert "/internal/cases/x" not in merged["paths"]


def test_the_real_document_carries_no_internal_dto() -> None:
    schemas = openapi.build()["components"]["schemas"]

    assert not {"EmailComment", "EmailAttachment"} & set(schemas)


def test_a_service_that_cannot_be_imported_is_skipped_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="skipping no_such_service"):
        document = openapi.build(services=["no_such_service"])

    assert document["paths"] == {}


def test_the_default_gateway_config_is_valid_for_envoy(tmp_path: Path) -> None:
    upstreams = tuple(Upstream(name, 8001 + i) for i, name in enumerate(openapi.SERVICES))
    gateway = Gateway(tmp_path, GatewaySettings(upstreams=upstreams, openapi_file=tmp_path / "openapi.json"))

    gateway.validate()


def test_every_operation_of_every_service_has_its_own_explicit_id() -> None:
    """The portal's generated client names calls by these ids: `<service>_<route function>`, never FastAPI's
    path-and-method default (which renames a call whenever its path moves)."""
    seen: dict[str, str] = {}
    for service in openapi.SERVICES:
        document = openapi.service_document(service)
        assert document is not None, service
        for path, item in document["paths"].items():
            for method, operation in item.items():
                op_id = operation["operationId"]
                assert re.fullmatch(rf"{service}_[a-z][a-z0-9_]*", op_id), (method, path, op_id)
                assert not op_id.endswith(f"_{method}"), f"{op_id}: FastAPI's generated id"
                assert op_id not in seen, f"{op_id} of {method} {path} is also {seen[op_id]}"
                seen[op_id] = f"{method} {path}"

    merged = openapi.build()
    merged_ids = {op["operationId"] for item in merged["paths"].values() for op in item.values()}
    assert merged_ids <= set(seen)  # the merge kept every id as the service gave it


def test_a_schema_two_services_define_alike_under_a_taken_name_is_kept_once() -> None:
    merged = openapi.merge(
        [
            ("identity", _doc("Problem", {"type": "object", "title": "identity's"}, "/api/identity/x")),
            ("cases", _doc("Problem", {"type": "object"}, "/api/cases/x")),
            ("attachments", _doc("Problem", {"type": "object"}, "/api/attachments/x")),
        ]
    )

    assert set(merged["components"]["schemas"]) == {"Problem", "cases_Problem"}
    op = merged["paths"]["/api/attachments/x"]["get"]
    assert op["responses"]["200"]["content"]["x"]["schema"]["$ref"] == "#/components/schemas/cases_Problem"
