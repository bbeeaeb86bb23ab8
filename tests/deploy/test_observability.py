"""Traces to the collector, metrics scraped by ServiceMonitors, and the alert rules the runbook answers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"

ALERT_METRICS = {
    "casefold_consumer_lag",
    "casefold_outbox_backlog",
    "casefold_dead_letters_total",
    "casefold_emails_failed_total",
}


def collector_config(manifests):
    return yaml.safe_load(manifests.named("ConfigMap", "otel-collector-config")["data"]["config.yaml"])


def test_services_send_otlp_to_the_collector(manifests, service):
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    collector = manifests.get("Service", "otel-collector")
    ports = {p["port"]: p["name"] for p in collector["spec"]["ports"]}
    endpoint = re.fullmatch(r"http://otel-collector:(\d+)", config["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint
    assert ports[int(endpoint[1])] == "otlp-http"
    assert config["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"


def test_collector_receives_otlp_and_exports_to_a_configurable_backend(manifests):
    config = collector_config(manifests)
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert traces["processors"][0] == "memory_limiter", "the memory limiter must run first"
    (exporter,) = traces["exporters"]
    variable = re.fullmatch(r"\$\{env:(\w+)\}", config["exporters"][exporter]["endpoint"])
    assert variable, "the backend endpoint comes from the environment"
    env = manifests.named("ConfigMap", "otel-collector-env")["data"]
    assert env[variable[1]]
    pod = manifests.get("Deployment", "otel-collector")["spec"]["template"]["spec"]
    assert pod["containers"][0]["envFrom"] == [
        {"configMapRef": {"name": manifests.named("ConfigMap", "otel-collector-env")["metadata"]["name"]}}
    ]


def test_prod_exports_traces_to_its_own_backend(prod, dev):
    def endpoint(m):
        return m.named("ConfigMap", "otel-collector-env")["data"]["OTEL_BACKEND_ENDPOINT"]

    assert endpoint(prod) != endpoint(dev)


def test_service_monitors_scrape_every_api_and_worker(manifests):
    scraped = set()
    for monitor in manifests.of_kind("ServiceMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [
            s
            for s in manifests.of_kind("Service")
            if all(s["metadata"]["labels"].get(k) == v for k, v in selector.items())
        ]
        assert services, monitor["metadata"]["name"]
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == "/metrics"
            for s in services:
                assert endpoint["port"] in {p["name"] for p in s["spec"]["ports"]}, s["metadata"]["name"]
                scraped.add(s["metadata"]["name"])
    for service in ("identity", "cases", "attachments", "notifications"):
        assert {service, f"{service}-worker"} <= scraped


def alerts(manifests):
    (rule,) = manifests.of_kind("PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r]


def test_alerts_cover_lag_backlog_dead_letters_and_email_failures(manifests):
    used = {m for a in alerts(manifests) for m in ALERT_METRICS if re.search(rf"\b{m}\b", a["expr"])}
    assert used == ALERT_METRICS
    for alert in alerts(manifests):
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert alert["annotations"]["summary"]


def test_every_alert_has_a_runbook_section(manifests):
    runbook = RUNBOOK.read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", runbook, flags=re.MULTILINE)
    }
    for alert in alerts(manifests):
        path, anchor = alert["annotations"]["runbook_url"].split("#")
        assert path == "docs/runbook.md"
        assert anchor in anchors, alert["alert"]
        assert anchor == alert["alert"].lower()


def test_the_gateways_envoy_proxies_trace_every_request_to_the_collector_over_otlp_grpc(manifests):
    gateway = manifests.get("Gateway", "casefold")
    ref = gateway["spec"]["infrastructure"]["parametersRef"]
    assert (ref["group"], ref["kind"]) == ("gateway.envoyproxy.io", "EnvoyProxy")
    proxy = manifests.get("EnvoyProxy", ref["name"])
    assert proxy["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    tracing = proxy["spec"]["telemetry"]["tracing"]
    assert tracing["provider"]["type"] == "OpenTelemetry"
    assert tracing["samplingRate"] == 100
    (backend,) = tracing["provider"]["backendRefs"]
    assert "namespace" not in backend, "the collector's Service is in the EnvoyProxy's own namespace"
    collector = manifests.get("Service", backend["name"])
    assert {p["port"]: p["name"] for p in collector["spec"]["ports"]}[backend["port"]] == "otlp-grpc"


def test_the_collector_admits_the_gateways_proxies_on_the_otlp_grpc_port(manifests):
    policy = manifests.get("NetworkPolicy", "otel-collector")
    proxies = [
        rule
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
        if peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == "envoy-gateway-system"
        and peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "proxy"
    ]
    assert [[p["port"] for p in rule["ports"]] for rule in proxies] == [[4317]]
