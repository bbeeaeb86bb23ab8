"""One OpenAPI document for frontend developers: every service's own document, merged, as the gateway serves it.

`python -m casefold_local.openapi --out .casefold/gateway/openapi.json` (run in its own process: importing the
service apps configures logging and tracing, which the supervisor does not want).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SERVICES = ("identity", "cases", "attachments", "notifications")
REF_PREFIX = "#/components/schemas/"


def service_document(service: str) -> dict[str, Any] | None:
    """`<service>.main.create_app().openapi()`, or None (with a warning) when the service cannot be imported yet."""
    try:
        module = importlib.import_module(f"{service}.main")
        document: dict[str, Any] = module.create_app().openapi()
    except Exception as exc:  # any failure of a half-built service must not stop the others' docs
        warnings.warn(f"openapi: skipping {service}: {type(exc).__name__}: {exc}", stacklevel=2)
        return None
    return document


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (REF_PREFIX + renames.get(v[len(REF_PREFIX) :], v[len(REF_PREFIX) :]))
            if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX)
            else _rename_refs(v, renames)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _renamed(schemas: dict[str, Any], service: str, name: str, schema: Any) -> str:
    """The name of a schema whose name another service took first: the twin an earlier service already renamed
    (one Problem for three services, not three copies), else `<service>_<name>`."""
    twin = next((n for n, s in schemas.items() if n.endswith(f"_{name}") and s == schema), None)
    return twin or f"{service}_{name}"


def merge(documents: Iterable[tuple[str, dict[str, Any]]], server_url: str | None = None) -> dict[str, Any]:
    """Public (/api/...) paths of every document; a schema name two services define differently gets a prefix."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Casefold API",
            "version": "1",
            "description": "Every service's public routes as the gateway serves them (see API.md).",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    if server_url:
        merged["servers"] = [{"url": server_url}]
    schemas: dict[str, Any] = merged["components"]["schemas"]
    operation_ids: set[str] = set()
    for service, document in documents:
        own = document.get("components", {}).get("schemas", {})
        renames = {name: _renamed(schemas, service, name, schema) for name, schema in own.items()
                   if schemas.get(name, schema) != schema}  # fmt: skip
        document = _rename_refs(document, renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        merged["components"]["securitySchemes"].update(document.get("components", {}).get("securitySchemes", {}))
        merged["tags"].append({"name": service})
        for path, item in document.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue  # /healthz, /readyz, /metrics are not routed by the gateway
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation.setdefault("tags", [service])
                    op_id = operation.get("operationId")
                    if op_id in operation_ids:
                        operation["operationId"] = f"{service}_{op_id}"
                    operation_ids.add(operation.get("operationId", ""))
            merged["paths"][path] = item
    merged["components"]["schemas"] = _reachable(schemas, merged["paths"])
    return merged


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reachable(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """Only the schemas the public paths use: a service's internal routes (never routed by the gateway) and their
    DTOs stay out of the public document."""
    seen: set[str] = set()
    todo = list(_refs(paths))
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(_refs(schemas[name]))
    return {name: schema for name, schema in schemas.items() if name in seen}


def build(services: Iterable[str] = SERVICES, server_url: str | None = None) -> dict[str, Any]:
    documents = [(s, d) for s in services if (d := service_document(s)) is not None]
    return merge(documents, server_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casefold_local.openapi", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--server-url", default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        document = build(server_url=args.server_url)
    for warning in caught:
        if str(warning.message).startswith("openapi:"):
            print(warning.message, file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=1))
    tmp.replace(args.out)
    print(f"openapi: {len(document['paths'])} paths -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
