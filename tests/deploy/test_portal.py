"""The portal in Kubernetes: its image, nginx's answers (the same as casefold-local's server), its workload."""

from __future__ import annotations

import json
import re
from pathlib import Path

from casefold_local.portal import ASSETS_PREFIX, IMMUTABLE, REVALIDATE, SECURITY_HEADERS

REPO = Path(__file__).resolve().parents[2]
PORTAL = REPO / "deploy" / "portal"


TOKEN = re.compile(r'"[^"]*"|[;{}]|[^\s;{}"]+')


def statements(path: Path) -> list[tuple[str, ...] | tuple[str, tuple[str, ...], list[object]]]:
    """nginx's grammar in small: `words;` and `words { ... }`; quotes keep their semicolons; includes expanded."""
    tokens = TOKEN.findall(re.sub(r"#[^\n]*", "", path.read_text()))

    def block(at: int) -> tuple[list[object], int]:
        found: list[object] = []
        words: list[str] = []
        while at < len(tokens):
            token = tokens[at]
            at += 1
            if token == ";":
                if words[0] == "include" and (PORTAL / Path(words[1]).name).exists():  # ours, not the image's
                    found += statements(PORTAL / Path(words[1]).name)
                else:
                    found.append(tuple(words))
                words = []
            elif token == "{":
                inner, at = block(at)
                found.append((words[0], tuple(words[1:]), inner))
                words = []
            elif token == "}":
                return found, at
            else:
                words.append(token.strip('"'))
        return found, at

    return block(0)[0]  # type: ignore[return-value]


def nginx_locations() -> dict[str, list[tuple[str, ...]]]:
    """Directives per location block of deploy/portal/nginx.conf."""
    found: dict[str, list[tuple[str, ...]]] = {}

    def walk(items: list[object]) -> None:
        for item in items:
            if isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], list):
                if item[0] == "location":
                    found[" ".join(item[1])] = item[2]
                else:
                    walk(item[2])

    walk(statements(PORTAL / "nginx.conf"))  # type: ignore[arg-type]
    return found


def headers(directives: list[tuple[str, ...]]) -> dict[str, str]:
    return {d[1].lower(): d[2] for d in directives if d[0] == "add_header"}


def test_nginx_sends_the_local_servers_security_headers_on_every_page_and_asset() -> None:
    locations = nginx_locations()

    for where in ("/assets/", "= /index.html", "/"):
        sent = headers(locations[where])
        assert {k: v for k, v in sent.items() if k != "cache-control"} == SECURITY_HEADERS, where
        always = {d[1].lower() for d in locations[where] if d[0] == "add_header" and d[-1] == "always"}
        assert set(SECURITY_HEADERS) <= always, f"{where}: security headers on errors too"


def test_nginx_caches_like_the_local_server() -> None:
    locations = nginx_locations()

    assert headers(locations[ASSETS_PREFIX])["cache-control"] == IMMUTABLE
    assert headers(locations["= /index.html"])["cache-control"] == REVALIDATE
    assert headers(locations["/"])["cache-control"] == REVALIDATE
    immutable = [d for d in locations[ASSETS_PREFIX] if d[:2] == ("add_header", "Cache-Control")]
    assert immutable[0][-1] != "always", "a 404 for a missing asset must not be cached for a year"


def test_nginx_falls_back_to_the_app_but_never_for_a_missing_asset() -> None:
    locations = nginx_locations()

    assert ("try_files", "$uri", "/index.html") in locations["/"]
    assert ("try_files", "$uri", "=404") in locations[ASSETS_PREFIX]
    assert ("return", "200", "ok\\n") in locations["= /healthz"]


def test_nginx_writes_only_under_tmp_and_lists_no_directory() -> None:
    text = re.sub(r"#[^\n]*", "", (PORTAL / "nginx.conf").read_text())

    written = re.findall(r"^\s*(pid|\w+_temp_path)\s+(\S+);", text, re.MULTILINE)
    assert {name for name, _ in written} >= {"pid", "client_body_temp_path", "proxy_temp_path"}
    assert all(path.startswith("/tmp/") for _, path in written)  # noqa: S108 - paths inside the container
    assert re.search(r"^\s*autoindex off;", text, re.MULTILINE)
    assert re.search(r"^\s*server_tokens off;", text, re.MULTILINE)
    assert not re.search(r"^\s*user\s", text, re.MULTILINE), "any uid runs it; a user directive needs root"
    assert re.search(r"listen 8080;", text)


def test_image_builds_with_the_lock_then_serves_only_the_built_files_as_non_root(dockerfile_stages) -> None:
    (builder, build_steps), (final, final_steps) = dockerfile_stages(PORTAL / "Dockerfile")

    assert re.fullmatch(r"node:20\.\d+-\S+ AS builder", builder)
    runs = [args for name, args in build_steps if name == "RUN"]
    assert runs[0].startswith("npm ci")
    assert "vite build" in runs[-1]
    assert re.fullmatch(r"nginxinc/nginx-unprivileged:\d+\.\d+\S*", final)
    copies = [args for name, args in final_steps if name == "COPY"]
    assert [c for c in copies if c.startswith("--from=")] == ["--from=builder /portal/dist /usr/share/nginx/html"]
    assert "deploy/portal/nginx.conf /etc/nginx/nginx.conf" in copies
    assert "deploy/portal/security-headers.conf /etc/nginx/security-headers.conf" in copies
    final_dict = dict(final_steps)
    assert json.loads(final_dict["ENTRYPOINT"]) == ["nginx"]
    assert final_dict["EXPOSE"] == "8080"
    assert final_steps[-1][0] == "USER"
    assert int(final_steps[-1][1].split(":")[0]) >= 10000


def test_build_context_leaves_out_installed_and_built_portal_files() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())

    assert {"**/node_modules", "portal/dist"} <= ignored
    assert "portal" not in ignored
    assert "deploy/portal" not in ignored


def test_the_portal_deployment_serves_the_gateways_route(manifests) -> None:
    deployment = manifests.get("Deployment", "portal")
    (web,) = deployment["spec"]["template"]["spec"]["containers"]
    service = manifests.get("Service", "portal")

    assert web["image"].startswith("ghcr.io/casefold/portal:")
    assert {"name": "http", "containerPort": 8080} in web["ports"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert web[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http"}]
    assert "env" not in web
    assert "envFrom" not in web, "static files: no configuration, no secrets"


def test_prod_runs_two_portals_under_a_disruption_budget(prod) -> None:
    assert prod.get("Deployment", "portal")["spec"]["replicas"] == 2
    assert prod.get("PodDisruptionBudget", "portal")["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == (
        "portal"
    )


def test_links_in_emails_open_the_portal_on_the_gateways_host(manifests) -> None:
    (listener,) = manifests.get("Gateway", "casefold")["spec"]["listeners"]
    origin = f"https://{listener['hostname']}"

    assert manifests.named("ConfigMap", "identity-config")["data"]["IDENTITY_PUBLIC_URL"] == origin
    assert manifests.named("ConfigMap", "notifications-config")["data"]["NOTIFICATIONS_PUBLIC_URL"] == origin
    portal = manifests.get("HTTPRoute", "portal")
    assert portal["spec"]["hostnames"] == [listener["hostname"]]
