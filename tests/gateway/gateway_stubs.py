"""Stub upstreams standing in for our four services, and a real Envoy with the generated config in front."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from casefold_local.gateway import Gateway
from casefold_local.gateway_config import GatewaySettings, Upstream
from casefold_local.procs import free_port
from casefold_testing.tokens import TestTokenIssuer

SERVICES = ("identity", "cases", "attachments", "notifications")
JWKS_PATH = "/api/identity/.well-known/jwks.json"


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with what arrived: service, method, path, headers, body size."""

    server: Stub

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        received = 0
        while received < length:
            chunk = self.rfile.read(min(65536, length - received))
            if not chunk:
                break
            received += len(chunk)
        if self.path == JWKS_PATH and self.server.jwks is not None:
            body = json.dumps(self.server.jwks).encode()
        else:
            echo = {
                "service": self.server.name,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_bytes": received,
            }
            body = json.dumps(echo).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, port: int, jwks: dict[str, Any] | None) -> None:
        super().__init__(("127.0.0.1", port), _EchoHandler)
        self.name = name
        self.jwks = jwks


@dataclass
class RunningGateway:
    url: str
    settings: GatewaySettings
    issuer: TestTokenIssuer


FIXTURE_INDEX = "<!doctype html><html><head><script type=module src=/assets/index-Ab12Cd34.js></script></head></html>"
FIXTURE_SCRIPT = "console.log('portal')"


def write_fixture_dist(dist: Path) -> Path:
    """A built portal in miniature: index.html and one hashed script."""
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(FIXTURE_INDEX)
    (dist / "assets" / "index-Ab12Cd34.js").write_text(FIXTURE_SCRIPT)
    (dist.parent / "secret.txt").write_text("outside the portal")
    return dist


def start_gateway(state_dir: Path, upstreams: tuple[Upstream, ...], **overrides: Any) -> Gateway:
    openapi = state_dir / "openapi.json"
    openapi.parent.mkdir(parents=True, exist_ok=True)
    openapi.write_text(json.dumps({"openapi": "3.1.0", "paths": {"/api/cases": {}}}))
    settings = GatewaySettings(
        upstreams=upstreams, openapi_file=openapi, port=free_port(), admin_port=free_port(), **overrides
    )
    gateway = Gateway(state_dir, settings)
    gateway.start()
    return gateway
