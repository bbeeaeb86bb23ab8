"""The portal's static files on the gateway's origin: SPA fallback, cache headers, a strict CSP (HEAD and GET only).

Envoy routes every path that is not /api/... here. deploy/portal/nginx.conf does the same in Kubernetes; a test
checks both send the same headers.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; frame-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
IMMUTABLE = "public, max-age=31536000, immutable"  # Vite puts a content hash in every name under /assets/
REVALIDATE = "no-cache"
ASSETS_PREFIX = "/assets/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def cache_control(url_path: str) -> str:
    return IMMUTABLE if url_path.startswith(ASSETS_PREFIX) else REVALIDATE


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


class PortalFiles:
    """An ASGI app over one built dist folder; it never lists a directory nor reads outside the folder."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, or None: missing, a directory, hidden, or outside the folder."""
        parts = url_path.split("/")
        if any(p in ("..", ".") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
            return None
        candidate = (self.dist / url_path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.dist) or not candidate.is_file():
            return None
        return candidate

    def answer(self, method: str, url_path: str) -> tuple[int, dict[str, str], Path | bytes]:
        """Status, headers and the file (or a small body) for one request."""
        if method not in ("GET", "HEAD"):
            return 405, {"allow": "GET, HEAD", "cache-control": REVALIDATE}, b"method not allowed\n"
        if ".." in url_path.split("/"):
            return 400, {"cache-control": REVALIDATE}, b"bad path\n"
        found = self.resolve(url_path)
        if found is not None:
            return 200, {"cache-control": cache_control(url_path), "content-type": content_type(found)}, found
        if url_path.startswith(ASSETS_PREFIX) or url_path + "/" == ASSETS_PREFIX:
            # A missing hashed file stays missing: the SPA page in its place would be run as a script.
            return 404, {"cache-control": REVALIDATE}, b"not found\n"
        index = self.dist / "index.html"
        if not index.is_file():
            return 503, {"cache-control": REVALIDATE}, b"the portal is not built\n"
        return 200, {"cache-control": REVALIDATE, "content-type": CONTENT_TYPES[".html"]}, index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status, headers, body = self.answer(scope["method"], scope["path"])
        request_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if isinstance(body, Path):
            data = body.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            headers["etag"] = etag
            if status == 200 and request_headers.get("if-none-match") == etag:
                status, data = 304, b""
        else:
            data = body
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        headers |= SECURITY_HEADERS
        if status != 304:
            headers["content-length"] = str(len(data))
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else data})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m casefold_local.portal", description=__doc__)
    parser.add_argument("--dist", type=Path, required=True, help="the built portal (vite build's output folder)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    uvicorn.run(PortalFiles(args.dist), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
