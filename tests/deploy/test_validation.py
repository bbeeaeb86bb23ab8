"""Every overlay renders, and every built-in object passes strict schema validation for the target Kubernetes."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

KUBERNETES_VERSION = "1.34.0"

# Custom resources have no bundled schema; their key fields are checked by the other test modules.
CUSTOM_KINDS = {
    "postgresql.cnpg.io/v1": {"Cluster", "ScheduledBackup"},
    "barmancloud.cnpg.io/v1": {"ObjectStore"},
    "kafka.strimzi.io/v1": {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"},
    "gateway.networking.k8s.io/v1": {"GatewayClass", "Gateway", "HTTPRoute"},
    "gateway.envoyproxy.io/v1alpha1": {
        "SecurityPolicy",
        "HTTPRouteFilter",
        "EnvoyProxy",
        "BackendTrafficPolicy",
        "ClientTrafficPolicy",
    },
    "monitoring.coreos.com/v1": {"ServiceMonitor", "PrometheusRule"},
}


def is_custom(obj):
    return obj["kind"] in CUSTOM_KINDS.get(obj["apiVersion"], set())


def test_built_in_objects_pass_strict_validation(manifests):
    failures = []
    for obj in manifests.objects:
        if is_custom(obj):
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            failures.append(f"{obj['apiVersion']} {obj['kind']}/{obj['metadata']['name']}: unknown kind")
        except kubernetes_validate.ValidationError as e:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {e.message} at {list(e.path)}")
    assert not failures, "\n".join(failures)


def test_strict_validation_rejects_an_unknown_field(prod):
    deployment = copy.deepcopy(prod.get("Deployment", "cases"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_namespaced_object_lands_in_the_casefold_namespace(manifests):
    cluster_scoped = {"Namespace", "GatewayClass"}
    stray = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in manifests.objects
        if o["kind"] not in cluster_scoped and o["metadata"].get("namespace") != "casefold"
    ]
    assert not stray


def test_names_are_unique_per_kind(manifests):
    seen = [(o["kind"], o["metadata"]["name"]) for o in manifests.objects]
    assert len(seen) == len(set(seen))
