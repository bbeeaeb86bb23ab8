"""Gateway API: every /api/<service> prefix routed, the JWT policy covering all but identity's public routes, and
every other path the portal's."""

from __future__ import annotations

import json

import pytest

JWKS_PATH = "/api/identity/.well-known/jwks.json"


def route_for(manifests, method, path):
    """The HTTPRoute that wins for a request, by the Gateway API's precedence rules (paths and methods only)."""
    candidates = []
    for route in manifests.of_kind("HTTPRoute"):
        for rule in route["spec"]["rules"]:
            for match in rule["matches"]:
                kind, value = match["path"]["type"], match["path"]["value"]
                if kind == "Exact":
                    hit = path == value
                else:
                    assert kind == "PathPrefix", kind
                    hit = path == value or path.startswith(value.rstrip("/") + "/")
                if hit and match.get("method", method) == method:
                    rank = (kind == "Exact", len(value), "method" in match)
                    candidates.append((rank, route["metadata"]["name"], rule.get("backendRefs", [])))
    if not candidates:
        return None, None
    candidates.sort(key=lambda c: c[0], reverse=True)
    assert len(candidates) == 1 or candidates[0][0] != candidates[1][0], f"ambiguous route for {method} {path}"
    return candidates[0][1], candidates[0][2]


def jwt_protected_routes(manifests):
    (policy,) = manifests.of_kind("SecurityPolicy")
    assert policy["spec"]["jwt"]["providers"], "the policy must validate JWTs"
    refs = policy["spec"]["targetRefs"]
    assert all(r["kind"] == "HTTPRoute" and r["group"] == "gateway.networking.k8s.io" for r in refs)
    return {r["name"] for r in refs}


@pytest.mark.parametrize(
    ("method", "path", "backend", "needs_jwt"),
    [
        ("POST", "/api/identity/users", "identity", False),
        ("POST", "/api/identity/email-confirmations", "identity", False),
        ("POST", "/api/identity/email-confirmations/resend", "identity", False),
        ("POST", "/api/identity/sessions", "identity", False),
        ("POST", "/api/identity/sessions/refresh", "identity", False),
        ("GET", JWKS_PATH, "identity", False),
        ("GET", "/api/identity/users", "identity", True),
        ("POST", "/api/identity/users/0b6f/roles", "identity", True),
        ("DELETE", "/api/identity/sessions/current", "identity", False),
        ("POST", "/api/identity/password-resets", "identity", False),
        ("POST", "/api/identity/password-resets/confirm", "identity", False),
        ("GET", "/api/identity/display-names/availability", "identity", False),
        ("GET", "/api/identity/display-names", "identity", True),
        ("GET", "/api/identity/me", "identity", True),
        ("PATCH", "/api/identity/me", "identity", True),
        ("GET", "/api/cases", "cases", True),
        ("POST", "/api/cases/0b6f/comments", "cases", True),
        ("GET", "/api/cases/products", "cases", True),
        ("POST", "/api/attachments", "attachments", True),
        ("GET", "/api/attachments/0b6f/meta", "attachments", True),
        ("GET", "/api/notifications/cases/0b6f/activity", "notifications", True),
    ],
)
def test_requests_reach_their_service_with_or_without_a_token(manifests, ports, method, path, backend, needs_jwt):
    name, backends = route_for(manifests, method, path)
    assert backends == [{"name": backend, "port": ports[backend]}]
    assert (name in jwt_protected_routes(manifests)) is needs_jwt


@pytest.mark.parametrize("path", ["/api/casesx", "/api", "/api/", "/api/nothing/here", "/api/openapi.jsonx"])
def test_an_api_path_no_service_owns_is_a_problem_404_not_the_portal(manifests, path):
    name, backends = route_for(manifests, "GET", path)
    assert (name, backends) == ("api-not-found", [])
    (rule,) = manifests.get("HTTPRoute", name)["spec"]["rules"]
    (extension,) = [f["extensionRef"] for f in rule["filters"] if f["type"] == "ExtensionRef"]
    assert extension["kind"] == "HTTPRouteFilter"
    response = manifests.get("HTTPRouteFilter", extension["name"])["spec"]["directResponse"]
    assert response["statusCode"] == 404
    assert response["contentType"] == "application/problem+json"
    assert json.loads(response["body"]["inline"])["status"] == 404


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/confirm-email", "/reset-password", "/cases/0b6f", "/cases/by-number/12", "/assets/index-a1.js",
     "/internal/metrics", "/metrics", "/apifoo"],
)  # fmt: skip
def test_every_other_path_is_the_portal_without_a_token(manifests, path):
    name, backends = route_for(manifests, "GET", path)
    portal = manifests.get("Service", "portal")
    assert backends == [{"name": "portal", "port": portal["spec"]["ports"][0]["port"]}]
    assert name not in jwt_protected_routes(manifests)


def test_routes_attach_to_the_https_listener(manifests):
    gateway = manifests.get("Gateway", "casefold")
    (listener,) = gateway["spec"]["listeners"]
    assert listener["protocol"] == "HTTPS"
    assert listener["tls"]["certificateRefs"]
    assert manifests.get("GatewayClass", gateway["spec"]["gatewayClassName"])
    for route in manifests.of_kind("HTTPRoute"):
        assert route["spec"]["parentRefs"] == [{"name": "casefold", "sectionName": listener["name"]}]
        assert route["spec"]["hostnames"] == [listener["hostname"]]


def test_jwt_provider_fetches_identity_jwks_in_cluster(manifests):
    (policy,) = manifests.of_kind("SecurityPolicy")
    (provider,) = policy["spec"]["jwt"]["providers"]
    uri = provider["remoteJWKS"]["uri"]
    identity = manifests.get("Service", "identity")
    port = identity["spec"]["ports"][0]["port"]
    assert uri == f"http://identity.{identity['metadata']['namespace']}.svc.cluster.local:{port}{JWKS_PATH}"
