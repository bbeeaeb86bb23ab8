"""The portal's static server: files, SPA fallback, cache headers, security headers, and nothing outside dist."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from casefold_local.portal import CONTENT_SECURITY_POLICY, PortalFiles

INDEX = "<!doctype html><html><head><script type=module src=/assets/index-Ab12Cd34.js></script></head></html>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-Ab12Cd34.js").write_text("console.log('portal')")
    (root / "assets" / "index-Ef56Gh78.css").write_text("body{margin:0}")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "outside.txt").write_text("not yours")
    return root


def _client(dist: Path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=PortalFiles(dist)), base_url="http://portal")


def _get(dist: Path, path: str, method: str = "GET", **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        async with _client(dist) as client:
            return await client.request(method, path, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/", "/login", "/cases/6f1c7a52-8a3e-4c55-9a8e-4f0a8f0f4a11", "/confirm-email",
                                  "/cases/by-number/1042", "/cases/6f1c/activity/abc"])  # fmt: skip
def test_every_app_path_serves_index_html_without_caching(dist: Path, path: str) -> None:
    response = _get(dist, path, params={"token": "abc"})

    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_with_their_type(dist: Path) -> None:
    script = _get(dist, "/assets/index-Ab12Cd34.js")
    style = _get(dist, "/assets/index-Ef56Gh78.css")

    assert script.status_code == 200
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert style.headers["content-type"] == "text/css; charset=utf-8"


def test_a_missing_asset_is_404_never_the_page(dist: Path) -> None:
    response = _get(dist, "/assets/index-Old00000.js")

    assert response.status_code == 404
    assert "<html" not in response.text


def test_other_files_are_served_and_revalidated(dist: Path) -> None:
    response = _get(dist, "/favicon.svg")

    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/", "/assets/index-Ab12Cd34.js", "/assets/nothing.js", "/x/y"])
def test_every_response_carries_the_security_headers(dist: Path, path: str) -> None:
    headers = _get(dist, path).headers

    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head_are_allowed(dist: Path, method: str) -> None:
    response = _get(dist, "/", method=method)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_head_answers_the_headers_without_a_body(dist: Path) -> None:
    response = _get(dist, "/assets/index-Ab12Cd34.js", method="HEAD")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len("console.log('portal')"))


def test_an_unchanged_file_is_a_304_on_revalidation(dist: Path) -> None:
    etag = _get(dist, "/").headers["etag"]

    again = _get(dist, "/", headers={"if-none-match": etag})

    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("path", ["/../outside.txt", "/assets/../../outside.txt", "/%2e%2e/outside.txt"])
def test_paths_out_of_the_folder_are_refused(dist: Path, path: str) -> None:
    app = PortalFiles(dist)

    status, _, body = app.answer("GET", path.replace("%2e", "."))  # what the ASGI server hands over, decoded

    assert status == 400
    assert b"not yours" not in (body if isinstance(body, bytes) else body.read_bytes())


def test_hidden_files_and_directories_are_never_served(dist: Path) -> None:
    hidden = _get(dist, "/.env")
    folder = _get(dist, "/assets/")

    assert hidden.text == INDEX  # the app's page, not the file
    assert folder.status_code == 404
    assert "index-Ab12Cd34" not in folder.text  # no listing


def test_an_unbuilt_portal_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    response = _get(tmp_path / "empty", "/login")

    assert response.status_code == 503
    assert "not built" in response.text
