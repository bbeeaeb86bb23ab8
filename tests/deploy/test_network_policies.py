"""Default deny, then only the intended flows: evaluated over the rendered policies, both ends of each connection."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest

NS = "casefold"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: tuple[tuple[str, str], ...] = ()
    ip: str = ""

    @property
    def label_map(self):
        return dict(self.labels)


def pod(namespace, labels):
    return Pod(namespace, tuple(sorted(labels.items())))


def app(service, component):
    return pod(
        NS,
        {
            "app.kubernetes.io/name": service,
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": "casefold",
        },
    )


ENVOY = pod("envoy-gateway-system", {"app.kubernetes.io/component": "proxy"})
PROMETHEUS = pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
KUBE_DNS = pod("kube-system", {"k8s-app": "kube-dns"})
KAFKA = pod(NS, {"strimzi.io/cluster": "casefold", "strimzi.io/broker-role": "true"})
COLLECTOR = pod(NS, {"app.kubernetes.io/name": "otel-collector"})
INTERNET = Pod("", (), "203.0.113.10")


def postgres(service):
    return pod(NS, {"cnpg.io/cluster": f"{service}-db", "cnpg.io/podRole": "instance"})


def expression_holds(expression, labels):
    key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    assert operator == "DoesNotExist", operator
    return key not in labels


def selects(selector, labels):
    assert set(selector) <= {"matchLabels", "matchExpressions"}, selector
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        expression_holds(e, labels) for e in selector.get("matchExpressions", [])
    )


def peer_matches(peer, other):
    if "ipBlock" in peer:
        return bool(other.ip) and ipaddress.ip_address(other.ip) in ipaddress.ip_network(peer["ipBlock"]["cidr"])
    if other.ip:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": other.namespace}):
            return False
    elif other.namespace != NS:
        return False
    return selects(peer.get("podSelector", {}), other.label_map)


def allowed_one_side(policies, subject, other, port, direction):
    if subject.namespace != NS:
        return True  # only this namespace's policies are ours to judge
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    relevant = [
        p
        for p in policies
        if direction in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], subject.label_map)
    ]
    if not relevant:
        return True
    for policy in relevant:
        for rule in policy["spec"].get(key, []):
            peers_ok = peers_key not in rule or any(peer_matches(peer, other) for peer in rule[peers_key])
            ports_ok = "ports" not in rule or any(p["port"] == port for p in rule["ports"])
            if peers_ok and ports_ok:
                return True
    return False


def allowed(manifests, src, dst, port):
    policies = manifests.of_kind("NetworkPolicy")
    return allowed_one_side(policies, src, dst, port, "Egress") and allowed_one_side(
        policies, dst, src, port, "Ingress"
    )


def test_namespace_denies_everything_by_default(manifests):
    deny = manifests.get("NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_pod_labels_in_the_model_match_the_rendered_workloads(manifests, service):
    for name, component in ((service, "api"), (f"{service}-worker", "worker")):
        labels = manifests.get("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert dict(app(service, component).labels).items() <= labels.items()
    collector = manifests.get("Deployment", "otel-collector")["spec"]["template"]["metadata"]["labels"]
    assert COLLECTOR.label_map.items() <= collector.items()


def test_gateway_reaches_each_api_but_not_the_workers(manifests, service, ports):
    assert allowed(manifests, ENVOY, app(service, "api"), ports[service])
    assert not allowed(manifests, ENVOY, app(service, "worker"), 9100)


def test_every_process_resolves_names(manifests, service):
    for component in ("api", "worker", "migrate"):
        assert allowed(manifests, app(service, component), KUBE_DNS, 53)


def test_everyone_reaches_identity_for_the_jwks_and_nothing_else_laterally(manifests, service, ports):
    assert allowed(manifests, app(service, "api"), app("identity", "api"), 8001)
    assert allowed(manifests, app(service, "worker"), app("identity", "api"), 8001)
    for other in ports:
        if other not in (service, "identity"):
            assert not allowed(manifests, app(service, "api"), app(other, "api"), ports[other])


def test_each_service_reaches_only_its_own_database(manifests, service, ports):
    for component in ("api", "worker", "migrate"):
        assert allowed(manifests, app(service, component), postgres(service), 5432)
    for other in ports:
        if other != service:
            assert not allowed(manifests, app(service, "api"), postgres(other), 5432)
    assert not allowed(manifests, ENVOY, postgres(service), 5432)


def test_services_reach_kafka_and_the_collector(manifests, service):
    assert allowed(manifests, app(service, "worker"), KAFKA, 9092)
    assert allowed(manifests, app(service, "api"), COLLECTOR, 4318)
    assert not allowed(manifests, ENVOY, KAFKA, 9092)


def test_prometheus_scrapes_apis_and_workers(manifests, service, ports):
    assert allowed(manifests, PROMETHEUS, app(service, "api"), ports[service])
    assert allowed(manifests, PROMETHEUS, app(service, "worker"), 9100)


@pytest.mark.parametrize(
    ("source", "port", "expected"),
    [
        (app("notifications", "worker"), 587, True),
        (app("notifications", "api"), 587, False),
        (app("cases", "worker"), 587, False),
        (app("attachments", "api"), 443, True),
        (app("attachments", "worker"), 443, True),
        (app("cases", "api"), 443, False),
        (app("identity", "api"), 443, False),
    ],
)
def test_only_named_processes_leave_the_cluster(manifests, source, port, expected):
    assert allowed(manifests, source, INTERNET, port) is expected


PORTAL = app("portal", "web")


def test_the_portal_model_matches_its_rendered_pods(manifests):
    labels = manifests.get("Deployment", "portal")["spec"]["template"]["metadata"]["labels"]
    assert PORTAL.label_map.items() <= labels.items()


def test_the_gateway_reaches_the_portal(manifests):
    assert allowed(manifests, ENVOY, PORTAL, 8080)
    assert not allowed(manifests, ENVOY, PORTAL, 9100)


def test_the_portal_calls_nothing(manifests, service, ports):
    assert not allowed(manifests, PORTAL, app(service, "api"), ports[service])
    assert not allowed(manifests, PORTAL, postgres(service), 5432)
    assert not allowed(manifests, PORTAL, KAFKA, 9092)
    assert not allowed(manifests, PORTAL, INTERNET, 443)


def test_no_service_reaches_the_portal(manifests, service):
    assert not allowed(manifests, app(service, "api"), PORTAL, 8080)
    assert not allowed(manifests, app(service, "worker"), PORTAL, 8080)
