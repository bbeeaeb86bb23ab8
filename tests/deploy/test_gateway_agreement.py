"""The two gateways agree: the local Envoy config and the Kubernetes Envoy Gateway resources have the same routes,
public routes, JWT issuer and audience, per-client and per-user limits, timeouts and problem replies. The local
figures (casefold_local.gateway_config) are the table; this test reads the rendered overlays against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import uvicorn

from casefold_local import gateway_config as local
from casefold_local.gateway_config import GatewaySettings, Upstream

SERVICES = ("identity", "cases", "attachments", "notifications")
# Known differences, on purpose: the combined OpenAPI document is a local convenience (the portal's client is
# generated from it at build time); CORS admits the local Vite dev servers only (in Kubernetes the portal is on the
# API's origin, so no cross-origin request is ever needed).
LOCAL_ONLY_PUBLIC = {(local.OPENAPI_PATH, "GET")}
UNIT_SECONDS = {"Second": 1, "Minute": 60, "Hour": 3600}


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(upstreams=tuple(Upstream(s, 0) for s in SERVICES), openapi_file=Path("openapi.json"))


def policies_for(manifests, kind, name):
    return [
        p for p in manifests.of_kind("BackendTrafficPolicy")
        if {"kind": kind, "name": name, "group": "gateway.networking.k8s.io"} in p["spec"]["targetRefs"]
    ]  # fmt: skip


def policy_for_route(manifests, route):
    """The policy Envoy Gateway applies to a route: its own, else the Gateway's (a route's replaces the Gateway's)."""
    own = policies_for(manifests, "HTTPRoute", route)
    assert len(own) <= 1, route
    return own[0] if own else policies_for(manifests, "Gateway", "casefold")[0]


def limits(policy):
    """{(selector kind, what it keys on): requests per second-equivalent window} of a policy's local rules."""
    found = {}
    for rule in policy["spec"]["rateLimit"]["local"]["rules"]:
        (selector,) = rule["clientSelectors"]
        window = UNIT_SECONDS[rule["limit"]["unit"]]
        if "path" in selector:
            key = ("login", selector["path"]["value"], selector["sourceCIDR"]["type"])
        elif "sourceCIDR" in selector:
            key = ("address", selector["sourceCIDR"]["value"], selector["sourceCIDR"]["type"])
        else:
            (header,) = selector["headers"]
            key = ("user", header["name"], header["type"])
        found[key] = (rule["limit"]["requests"], window)
    return found


def test_public_routes_are_the_same_on_both(manifests):
    route = manifests.get("HTTPRoute", "identity-public")
    k8s = {(m["path"]["value"], m["method"]) for rule in route["spec"]["rules"] for m in rule["matches"]}
    assert all(m["path"]["type"] == "Exact" for rule in route["spec"]["rules"] for m in rule["matches"])
    assert k8s == set(local.PUBLIC_ROUTES) - LOCAL_ONLY_PUBLIC
    assert ("/api/identity/sessions/current", "DELETE") in k8s, "logout works with an expired access token"


def test_every_service_prefix_is_routed_on_both(manifests, settings):
    prefixed = [r for r in local.routes(settings) if "route" in r and "path_separated_prefix" in r["match"]]
    local_prefixes = {r["match"]["path_separated_prefix"]: r["route"]["cluster"] for r in prefixed}
    k8s = {}
    for name in SERVICES:
        ((match,),) = [rule["matches"] for rule in manifests.get("HTTPRoute", name)["spec"]["rules"]]
        k8s[match["path"]["value"]] = name
    assert k8s == local_prefixes == {f"/api/{s}": s for s in SERVICES}


def test_the_jwt_provider_checks_the_same_issuer_and_audience(manifests):
    (provider,) = manifests.get("SecurityPolicy", "require-jwt")["spec"]["jwt"]["providers"]
    assert provider["issuer"] == local.ISSUER
    assert provider["audiences"] == [local.AUDIENCE]
    assert {"claim": "sub", "header": "x-casefold-user"} in provider["claimToHeaders"]


def test_timeouts_agree_and_uploads_get_300_seconds(manifests, settings):
    local_timeouts = {r["name"]: int(r["route"]["timeout"].rstrip("s")) for r in local.routes(settings) if "route" in r}
    for name in SERVICES:
        k8s = policy_for_route(manifests, name)["spec"]["timeout"]["http"]["requestTimeout"]
        assert int(k8s.rstrip("s")) == local_timeouts[name], name
    assert local_timeouts["attachments"] == 300
    for name in ("identity-public", "portal", "api-not-found"):
        k8s = policy_for_route(manifests, name)["spec"]["timeout"]["http"]["requestTimeout"]
        assert int(k8s.rstrip("s")) == settings.timeout_seconds, name


def test_upstream_connections_idle_out_on_both_before_the_services_keep_alive_does(manifests, settings):
    # A request sent on a connection the service is closing fails with a 503: Envoy must close idle ones first.
    idle = f"{local.UPSTREAM_IDLE_SECONDS}s"
    assert uvicorn.Config("cases.main:create_app").timeout_keep_alive > local.UPSTREAM_IDLE_SECONDS
    http_options = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    for cluster in local.clusters(settings):
        assert cluster["typed_extension_protocol_options"][http_options]["common_http_protocol_options"] == {
            "idle_timeout": idle
        }, cluster["name"]
    policies = manifests.of_kind("BackendTrafficPolicy")
    assert policies
    for policy in policies:
        assert policy["spec"]["timeout"]["http"]["connectionIdleTimeout"] == idle, policy["metadata"]["name"]


def test_every_route_limits_each_client_address_as_the_local_gateway_does(manifests, settings):
    per_address = (settings.client_requests, settings.rate_window_seconds)
    for route in manifests.of_kind("HTTPRoute"):
        found = limits(policy_for_route(manifests, route["metadata"]["name"]))
        assert found[("address", "0.0.0.0/0", "Distinct")] == per_address, route["metadata"]["name"]
        assert found[("address", "::/0", "Distinct")] == per_address, route["metadata"]["name"]


def test_routes_behind_the_jwt_policy_limit_each_user_and_no_other_route_trusts_the_header(manifests, settings):
    (policy,) = manifests.of_kind("SecurityPolicy")
    protected = {r["name"] for r in policy["spec"]["targetRefs"]}
    for route in manifests.of_kind("HTTPRoute"):
        name = route["metadata"]["name"]
        user = limits(policy_for_route(manifests, name)).get(("user", "x-casefold-user", "Distinct"))
        if name in protected:
            assert user == (settings.user_requests, settings.rate_window_seconds), name
        else:
            assert user is None, f"{name}: without a verified token the header is the client's to choose"


def test_logins_are_limited_per_address_as_the_local_gateway_does(manifests, settings):
    found = limits(policy_for_route(manifests, "identity-public"))
    assert found[("login", "/api/identity/sessions", "Distinct")] == (settings.login_burst, settings.login_fill_seconds)
    login = next(r for r in local.routes(settings) if r["name"] == "login")
    assert login["match"] == {"path": "/api/identity/sessions", "headers": local._method("POST")}


def test_the_client_address_is_the_peer_on_both(manifests):
    (client,) = manifests.of_kind("ClientTrafficPolicy")
    assert client["spec"]["clientIPDetection"] == {"xForwardedFor": {"numTrustedHops": 0}}
    (proxy,) = manifests.of_kind("EnvoyProxy")
    assert proxy["spec"]["provider"]["kubernetes"]["envoyService"]["externalTrafficPolicy"] == "Local"
    template = (Path(local.TEMPLATE)).read_text()
    assert "use_remote_address: true" in template
    assert "xff_num_trusted_hops: 0" in template


def test_the_gateways_own_replies_are_problem_documents_on_both(manifests, settings):
    for route in manifests.of_kind("HTTPRoute"):
        policy = policy_for_route(manifests, route["metadata"]["name"])
        overridden = {}
        for override in policy["spec"]["responseOverride"]:
            (code,) = override["match"]["statusCodes"]
            assert override["source"] == "Local", "a service's own problem documents must pass unchanged"
            overridden[code["value"]] = override["response"]
        assert set(overridden) == set(local.PROBLEM_TITLES) - {400, 404, 431}, route["metadata"]["name"]
        for status, response in overridden.items():
            assert response["contentType"] == "application/problem+json"
            problem = json.loads(response["body"]["inline"])
            assert (problem["status"], problem["title"]) == (status, local.PROBLEM_TITLES[status])
    not_found = manifests.get("HTTPRouteFilter", "api-not-found")["spec"]["directResponse"]
    assert json.loads(not_found["body"]["inline"])["title"] == local.PROBLEM_TITLES[404]


def test_cors_is_for_local_dev_servers_only(manifests):
    assert all(o.startswith(("http://127.0.0.1:", "http://localhost:")) for o in local.DEFAULT_ORIGINS)
    assert not [p for p in manifests.of_kind("SecurityPolicy") if "cors" in p["spec"]]
