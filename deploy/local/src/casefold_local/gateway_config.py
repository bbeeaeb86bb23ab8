"""The gateway's Envoy configuration, rendered from deploy/local/envoy/gateway.yaml and the stack's ports."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "envoy" / "gateway.yaml"
MIB = 1024 * 1024
INT64_MAX = 2**63 - 1
DEFAULT_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")
JWKS_PATH = "/api/identity/.well-known/jwks.json"
OPENAPI_PATH = "/api/openapi.json"
# What identity puts in its access tokens (casefold_platform.auth ISSUER, AUDIENCE; a gateway test holds them equal).
ISSUER = "casefold-identity"
AUDIENCE = "casefold"

# Identity routes anyone may call; the service itself rate-limits and checks them (logout carries the refresh token,
# in the body or the HttpOnly cookie, so it works with an expired access token and can always clear the cookie).
PUBLIC_ROUTES: tuple[tuple[str, str | None], ...] = (
    ("/api/identity/users", "POST"),
    ("/api/identity/email-confirmations", "POST"),
    ("/api/identity/email-confirmations/resend", "POST"),
    ("/api/identity/sessions", "POST"),
    ("/api/identity/sessions/refresh", "POST"),
    ("/api/identity/sessions/current", "DELETE"),
    ("/api/identity/password-resets", "POST"),
    ("/api/identity/password-resets/confirm", "POST"),
    ("/api/identity/display-names/availability", "GET"),
    (JWKS_PATH, "GET"),
    (OPENAPI_PATH, "GET"),
)

PROBLEM_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Content Too Large",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Upstream:
    """One service behind the gateway: requests under prefix go to 127.0.0.1:port unchanged."""

    name: str
    port: int

    @property
    def prefix(self) -> str:
        return f"/api/{self.name}"


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the rendered configuration depends on."""

    upstreams: tuple[Upstream, ...]
    openapi_file: Path
    port: int = 8080
    admin_port: int = 9901
    cors_origins: tuple[str, ...] = DEFAULT_ORIGINS
    # attachments' whole-request limit: 10 files of 25 MiB plus multipart framing (its Settings.max_request_bytes)
    max_upload_bytes: int = 262_301_696
    max_json_bytes: int = 1 * MIB
    # Requests per rate_window_seconds for each client address and, with a valid token, each user (the Kubernetes
    # gateway's BackendTrafficPolicy has the same figures; tests/deploy/test_gateway_agreement.py holds them equal).
    client_requests: int = 200
    user_requests: int = 100
    rate_window_seconds: int = 1
    login_burst: int = 10
    login_fill_seconds: int = 60
    jwks_cache_seconds: int = 60
    upload_timeout_seconds: int = 300
    timeout_seconds: int = 30
    identity: str = "identity"
    # The portal's static server: every path outside /api/ goes there; None keeps the gateway API-only.
    portal: Upstream | None = None
    # OTLP/HTTP base URL (http://127.0.0.1:4318) the gateway sends its spans to; None: Envoy does not trace.
    otlp_endpoint: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"


def _method(method: str | None) -> list[dict[str, Any]]:
    return [{"name": ":method", "string_match": {"exact": method}}] if method else []


def _too_large(name: str, prefix: str, limit: int) -> dict[str, Any]:
    header = {"name": "content-length", "range_match": {"start": limit + 1, "end": INT64_MAX}}
    body = {"inline_string": f"the request body may not exceed {limit} bytes"}
    return {
        "name": name,
        "match": {"path_separated_prefix": prefix, "headers": [header]},
        "direct_response": {"status": 413, "body": body},
    }


def routes(settings: GatewaySettings) -> list[dict[str, Any]]:
    """OpenAPI document, size limits, the rate-limited login, one prefix route per service, then the portal."""
    result: list[dict[str, Any]] = [
        {
            "name": "openapi",
            "match": {"path": OPENAPI_PATH, "headers": _method("GET")},
            "direct_response": {"status": 200, "body": {"filename": str(settings.openapi_file)}},
            "response_headers_to_add": [
                {
                    "header": {"key": "content-type", "value": "application/json"},
                    "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
                }
            ],
        }
    ]
    for upstream in settings.upstreams:
        limit = settings.max_upload_bytes if upstream.name == "attachments" else settings.max_json_bytes
        result.append(_too_large(f"{upstream.name}-too-large", upstream.prefix, limit))
    result.append(
        {
            "name": "login",
            "match": {"path": "/api/identity/sessions", "headers": _method("POST")},
            "route": {"cluster": settings.identity, "timeout": f"{settings.timeout_seconds}s"},
            "typed_per_filter_config": {"envoy.filters.http.local_ratelimit": _login_rate_limit(settings)},
        }
    )
    for upstream in settings.upstreams:
        timeout = settings.upload_timeout_seconds if upstream.name == "attachments" else settings.timeout_seconds
        result.append(
            {
                "name": upstream.name,
                "match": {"path_separated_prefix": upstream.prefix},
                "route": {"cluster": upstream.name, "timeout": f"{timeout}s"},
            }
        )
    if settings.portal is not None:
        result.extend(_portal_routes(settings.portal, settings.timeout_seconds))
    return result


def _portal_routes(portal: Upstream, timeout: int) -> list[dict[str, Any]]:
    """An unknown /api/ path stays the gateway's problem 404; every other path is the portal's."""
    not_found = {"inline_string": "no API route matches this path"}
    return [
        {"name": "api-not-found", "match": {"prefix": "/api/"}, "direct_response": {"status": 404, "body": not_found}},
        {"name": "portal", "match": {"prefix": "/"}, "route": {"cluster": portal.name, "timeout": f"{timeout}s"}},
    ]


LOCAL_RATE_LIMIT = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
# Descriptors are created per distinct value; beyond this many the least recently used bucket is dropped.
MAX_DYNAMIC_DESCRIPTORS = 20_000
# The default bucket of a per-key filter: it only counts requests that produce no key (no token for the user filter).
UNLIMITED = {"max_tokens": 1_000_000_000, "tokens_per_fill": 1_000_000_000, "fill_interval": "1s"}


def _bucket(requests: int, seconds: int) -> dict[str, Any]:
    return {"max_tokens": requests, "tokens_per_fill": requests, "fill_interval": f"{seconds}s"}


def _keyed_rate_limit(
    stat_prefix: str, key: str, action: dict[str, Any], bucket: dict[str, Any], retry_after: int
) -> dict[str, Any]:
    """A local rate limit with one token bucket per distinct value of `key` (Envoy's dynamic descriptors)."""
    hundred = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    return {
        "@type": LOCAL_RATE_LIMIT,
        "stat_prefix": stat_prefix,
        "token_bucket": UNLIMITED,
        "descriptors": [{"entries": [{"key": key}], "token_bucket": bucket}],
        "max_dynamic_descriptors": MAX_DYNAMIC_DESCRIPTORS,
        "rate_limits": [{"actions": [action]}],
        "filter_enabled": hundred,
        "filter_enforced": hundred,
        "response_headers_to_add": [{"header": {"key": "retry-after", "value": str(retry_after)}}],
    }


CLIENT_ADDRESS: dict[str, Any] = {"remote_address": {}}
JWT_SUBJECT: dict[str, Any] = {
    "metadata": {
        "descriptor_key": "user",
        "metadata_key": {"key": "envoy.filters.http.jwt_authn", "path": [{"key": "jwt_payload"}, {"key": "sub"}]},
    }
}


def client_rate_limit(settings: GatewaySettings) -> dict[str, Any]:
    bucket = _bucket(settings.client_requests, settings.rate_window_seconds)
    return _keyed_rate_limit("client_rate_limit", "remote_address", CLIENT_ADDRESS, bucket,
                             settings.rate_window_seconds)  # fmt: skip


def user_rate_limit(settings: GatewaySettings) -> dict[str, Any]:
    bucket = _bucket(settings.user_requests, settings.rate_window_seconds)
    return _keyed_rate_limit("user_rate_limit", "user", JWT_SUBJECT, bucket, settings.rate_window_seconds)


def _login_rate_limit(settings: GatewaySettings) -> dict[str, Any]:
    bucket = _bucket(settings.login_burst, settings.login_fill_seconds)
    return _keyed_rate_limit("login_rate_limit", "remote_address", CLIENT_ADDRESS, bucket,
                             settings.login_fill_seconds)  # fmt: skip


def jwt_rules() -> list[dict[str, Any]]:
    """Public identity routes and the OpenAPI document pass; everything else under /api/ needs a valid token."""
    rules: list[dict[str, Any]] = [
        {"match": {"path": path, "headers": _method(method)}} for path, method in PUBLIC_ROUTES
    ]
    rules.append({"match": {"prefix": "/api/"}, "requires": {"provider_name": "identity"}})
    return rules


def local_reply_mappers() -> list[dict[str, Any]]:
    """One mapper per status the gateway answers itself; 2xx/3xx direct responses pass unchanged.

    jwt_authn answers 403 for a valid signature with the wrong audience; a token not meant for us is 401 (RFC 6750
    invalid_token), like every other bad token. Only the gateway's own replies are mapped, never a service's.
    """
    mappers: list[dict[str, Any]] = [
        {
            "filter": {
                "status_code_filter": {
                    "comparison": {"op": "EQ", "value": {"default_value": 403, "runtime_key": "lr_403"}}
                }
            },
            "status_code": 401,
            "body_format_override": _problem(401, "Unauthorized"),
        }
    ]
    for status, title in PROBLEM_TITLES.items():
        mappers.append(
            {
                "filter": {
                    "status_code_filter": {
                        "comparison": {"op": "EQ", "value": {"default_value": status, "runtime_key": f"lr_{status}"}}
                    }
                },
                "body_format_override": _problem(status, title),
            }
        )
    return mappers


def _problem(status: int, title: str) -> dict[str, Any]:
    return {
        "json_format": {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": "%LOCAL_REPLY_BODY%",
            "error_id": "%REQ(X-REQUEST-ID)%",
        },
        "content_type": "application/problem+json",
    }


def clusters(settings: GatewaySettings) -> list[dict[str, Any]]:
    result = [
        _static_cluster(upstream.name, "127.0.0.1", upstream.port)
        for upstream in (*settings.upstreams, *((settings.portal,) if settings.portal else ()))
    ]
    if settings.otlp_endpoint is not None:
        result.append(_static_cluster(OTLP_CLUSTER, *_otlp_address(settings.otlp_endpoint)))
    return result


OTLP_CLUSTER = "otlp"


def _otlp_address(endpoint: str) -> tuple[str, int]:
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme != "http" or not url.hostname:
        raise ValueError(f"the gateway sends OTLP over plain HTTP to a host: {endpoint!r}")
    return url.hostname, url.port or 4318


def tracing(settings: GatewaySettings) -> dict[str, Any] | None:
    """Envoy's OpenTelemetry tracer: a SERVER span per request and a CLIENT span per upstream call, sent over
    OTLP/HTTP; the W3C traceparent it sends upstream is what the services continue."""
    if settings.otlp_endpoint is None:
        return None
    _otlp_address(settings.otlp_endpoint)
    return {
        "provider": {
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                "service_name": "gateway",
                "http_service": {
                    "http_uri": {
                        "uri": settings.otlp_endpoint.rstrip("/") + "/v1/traces",
                        "cluster": OTLP_CLUSTER,
                        "timeout": "2s",
                    }
                },
            },
        },
        "random_sampling": {"value": 100},
        "spawn_upstream_span": True,
    }


# An upstream connection idle this long is closed by Envoy, before the service closes it: uvicorn ends a kept-alive
# connection after 5 idle seconds (its timeout_keep_alive), and a request Envoy sends on a connection the service is
# closing at that moment fails with a 503 (upstream_reset_before_response_started{connection_termination}).
UPSTREAM_IDLE_SECONDS = 4


def _static_cluster(name: str, address: str, port: int) -> dict[str, Any]:
    endpoint = {"address": {"socket_address": {"address": address, "port_value": port}}}
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "common_http_protocol_options": {"idle_timeout": f"{UPSTREAM_IDLE_SECONDS}s"},
                "explicit_http_config": {"http_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": endpoint}]}],
        },
    }


def render(settings: GatewaySettings) -> str:
    """The Envoy bootstrap YAML for these settings."""
    identity = next((u for u in settings.upstreams if u.name == settings.identity), None)
    if identity is None:
        raise ValueError("the gateway needs the identity upstream (its JWKS)")
    values = {
        "admin_port": settings.admin_port,
        "gateway_port": settings.port,
        "local_reply_mappers": json.dumps(local_reply_mappers()),
        "client_rate_limit": json.dumps(client_rate_limit(settings)),
        "user_rate_limit": json.dumps(user_rate_limit(settings)),
        "jwt_issuer": json.dumps(ISSUER),
        "jwt_audience": json.dumps(AUDIENCE),
        "jwks_uri": f"http://127.0.0.1:{identity.port}{JWKS_PATH}",
        "jwks_cache_seconds": settings.jwks_cache_seconds,
        "jwt_rules": json.dumps(jwt_rules()),
        "max_direct_response_bytes": 16 * MIB,
        "cors_origins": json.dumps([{"exact": origin} for origin in settings.cors_origins]),
        "routes": json.dumps(routes(settings)),
        "clusters": json.dumps(clusters(settings)),
        "tracing": json.dumps(tracing(settings)),
    }
    return Template(TEMPLATE.read_text()).substitute(values)
