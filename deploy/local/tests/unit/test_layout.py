"""What each service process is told: databases, Kafka, JWKS, SMTP, public URL; private names for a test system."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from casefold_local import gateway_config, stack
from casefold_local.errors import InfraError
from casefold_local.stack import Layout
from casefold_local.system import System


def _layout(**overrides: object) -> Layout:
    return Layout(
        state_dir=Path("state"),
        database_server_dsn="postgresql://postgres@127.0.0.1:55432/postgres?sslmode=disable",
        kafka_bootstrap="127.0.0.1:59092",
        **overrides,  # type: ignore[arg-type]
    )


def test_each_service_gets_its_own_database_and_the_shared_endpoints() -> None:
    layout = _layout(smtp_port=2525)

    env = layout.service_env(layout.service("notifications"))

    assert env["NOTIFICATIONS_DATABASE_URL"] == (
        "postgresql://postgres@127.0.0.1:55432/casefold_notifications?sslmode=disable"
    )
    assert env["NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:59092"
    assert env["NOTIFICATIONS_JWKS_URL"] == "http://127.0.0.1:8001/api/identity/.well-known/jwks.json"
    assert env["NOTIFICATIONS_SMTP_PORT"] == "2525"
    assert env["NOTIFICATIONS_PUBLIC_URL"] == "http://127.0.0.1:8080"
    assert env["NOTIFICATIONS_ENVIRONMENT"] == "development"
    assert "NOTIFICATIONS_CASES_TOPIC" not in env  # the services' own defaults
    assert env["NOTIFICATIONS_REVOKED_TOKENS_URL"] == "http://127.0.0.1:8001/internal/identity/revoked-tokens"
    assert "IDENTITY_REVOKED_TOKENS_URL" not in layout.service_env(layout.service("identity"))  # its own database


def test_a_topic_prefix_renames_topics_and_consumer_groups_everywhere() -> None:
    layout = _layout(topic_prefix="e2e-x.")

    assert layout.topics() == [
        "e2e-x.cases.events.v1", "e2e-x.identity.events.v1", "e2e-x.identity.mail.v1",
        "e2e-x.attachments.dlq", "e2e-x.notifications.dlq", "e2e-x.cases.dlq", "e2e-x.notifications.mail.dlq",
    ]  # fmt: skip
    cases = layout.service_env(layout.service("cases"))
    assert cases["CASES_EVENTS_TOPIC"] == "e2e-x.cases.events.v1"
    assert (cases["CASES_IDENTITY_TOPIC"], cases["CASES_CONSUMER_NAME"]) == ("e2e-x.identity.events.v1", "e2e-x.cases")
    attachments = layout.service_env(layout.service("attachments"))
    assert attachments["ATTACHMENTS_CONSUMER_NAME"] == "e2e-x.attachments"
    identity = layout.service_env(layout.service("identity"))
    assert identity["IDENTITY_MAIL_TOPIC"] == "e2e-x.identity.mail.v1"


def test_ports_move_with_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEFOLD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CASES_PORT", "9102")
    monkeypatch.setenv("CASEFOLD_GATEWAY_PORT", "9080")
    monkeypatch.setenv("CASEFOLD_CORS_ORIGINS", "https://app.example, ")

    layout = stack.layout()

    assert layout.service("cases").url == "http://127.0.0.1:9102"
    assert layout.gateway_url == "http://127.0.0.1:9080"
    assert layout.cors_origins == ("https://app.example",)
    assert layout.service_env(layout.service("identity"))["IDENTITY_PUBLIC_URL"] == "http://127.0.0.1:9080"


def test_a_second_start_over_a_running_system_says_make_stop(tmp_path: Path) -> None:
    layout = Layout(state_dir=tmp_path, database_server_dsn="postgresql://x@127.0.0.1:1/postgres", kafka_bootstrap="x")
    system = System(layout)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(layout.mail_dir)])
    try:
        layout.logs_dir.mkdir(parents=True)
        system.mailbox.pid_file.write_text(str(sleeper.pid))
        with pytest.raises(InfraError, match=r"mailbox already running .* run `make stop` first"):
            system.start()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_links_in_emails_open_the_portal_on_the_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEFOLD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CASEFOLD_GATEWAY_PORT", "9080")

    layout = stack.layout()

    assert layout.portal_url == "http://127.0.0.1:9080/"
    for name in ("identity", "notifications"):
        assert layout.service_env(layout.service(name))[f"{name.upper()}_PUBLIC_URL"] == layout.gateway_url


def test_a_built_portal_is_served_on_every_path_outside_the_api_and_printed_first(tmp_path: Path) -> None:
    dist = tmp_path / "portal" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html>")
    layout = Layout(tmp_path, "postgresql://x@127.0.0.1:1/postgres", "x", portal_dist=dist, portal_port=9005)

    system = System(layout)
    routes = [r["name"] for r in gateway_config.routes(system.gateway.settings)]

    assert system.serves_portal
    assert system.gateway.settings.portal == gateway_config.Upstream("portal", 9005)
    assert routes[-2:] == ["api-not-found", "portal"]  # after every API route: those stay more specific
    assert system.describe()[0].startswith("portal")
    assert layout.portal_url in system.describe()[0]


def test_without_a_build_the_gateway_stays_api_only(tmp_path: Path) -> None:
    system = System(Layout(tmp_path, "postgresql://x@127.0.0.1:1/postgres", "x", portal_dist=tmp_path / "dist"))

    assert not system.serves_portal
    assert system.gateway.settings.portal is None
    assert "portal" not in [r["name"] for r in gateway_config.routes(system.gateway.settings)]
    assert "NOT BUILT" in system.describe()[0]


def test_make_run_traces_to_the_local_viewer_and_the_gateway_traces_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CASEFOLD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("CASEFOLD_TRACES_PORT", "9318")

    system = System(stack.layout())

    for service in system.layout.services:
        env = system.layout.service_env(service)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:9318"
        assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert system.traceviewer is not None
    assert "--port" in system.traceviewer.command
    assert system.traceviewer.command[-1] == "9318"
    tracing = gateway_config.tracing(system.gateway.settings)
    assert tracing is not None
    assert tracing["provider"]["typed_config"]["http_service"]["http_uri"]["uri"] == "http://127.0.0.1:9318/v1/traces"
    (otlp,) = [c for c in gateway_config.clusters(system.gateway.settings) if c["name"] == gateway_config.OTLP_CLUSTER]
    address = otlp["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
    assert (address["address"], address["port_value"]) == ("127.0.0.1", 9318)
    assert any(line.startswith("traces") and "http://127.0.0.1:9318/" in line for line in system.describe())


def test_your_own_otlp_endpoint_replaces_the_viewer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CASEFOLD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:14318")

    system = System(stack.layout())

    assert system.traceviewer is None
    assert system.gateway.settings.otlp_endpoint == "http://127.0.0.1:14318"


def test_a_layout_without_an_endpoint_traces_nothing(tmp_path: Path) -> None:
    system = System(Layout(tmp_path, "postgresql://x@127.0.0.1:1/postgres", "x"))

    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in system.layout.service_env(system.layout.service("cases"))
    assert gateway_config.tracing(system.gateway.settings) is None
    assert gateway_config.OTLP_CLUSTER not in [c["name"] for c in gateway_config.clusters(system.gateway.settings)]


def test_extra_settings_reach_every_service_process_and_win_over_the_defaults() -> None:
    layout = _layout(extra_env=(("CASES_CONTROLLABLE_CLOCK", "true"), ("CASES_HOST", "127.0.0.2")))

    env = layout.service_env(layout.service("cases"))

    assert env["CASES_CONTROLLABLE_CLOCK"] == "true"
    assert env["CASES_HOST"] == "127.0.0.2"
    assert "CASES_CONTROLLABLE_CLOCK" not in _layout().service_env(_layout().service("cases"))
