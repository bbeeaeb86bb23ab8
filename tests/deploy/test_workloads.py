"""Deployments, Jobs and CronJobs: hardened pods, probes, resources, config and secret wiring, images."""

from __future__ import annotations

import re

import pytest

OPERATOR_SECRETS = {
    # CloudNativePG makes <cluster>-app; Strimzi's user operator makes one Secret per KafkaUser.
    **{f"{s}-db-app": {"uri"} for s in ("identity", "cases", "attachments", "notifications")},
    **{s: {"password"} for s in ("identity", "cases", "attachments", "notifications")},
    # Strimzi's cluster operator keeps the cluster CA certificate the clients trust (TLS listener).
    "casefold-cluster-ca-cert": {"ca.crt"},
}
OUT_OF_BAND_SECRETS = {
    # Created by the SRE (runbook, "Before the first deploy"); dev generates throwaway ones, identity its own key.
    "identity-signing-keys": {"keys.pem"},
    "attachment-receipt-key": {"key"},
    "attachments-s3": {"access-key-id", "secret-access-key"},
    "notifications-smtp": {"username", "password"},
    "cases-internal-api-key": {"key"},
    "attachments-internal-api-key": {"key"},
    "notifications-reply-token-key": {"key"},
}


def containers(pod):
    return pod.get("initContainers", []) + pod["containers"]


def test_every_pod_is_hardened(manifests):
    for workload, pod in manifests.pod_specs():
        name = workload["metadata"]["name"]
        assert pod.get("automountServiceAccountToken") is False, name
        sc = pod["securityContext"]
        assert sc["runAsNonRoot"] is True, name
        assert sc["runAsUser"] >= 10000, name
        assert sc["seccompProfile"]["type"] == "RuntimeDefault", name
        for c in containers(pod):
            csc = c["securityContext"]
            assert csc["allowPrivilegeEscalation"] is False, name
            assert csc["readOnlyRootFilesystem"] is True, name
            assert csc["capabilities"]["drop"] == ["ALL"], name
            assert not csc.get("privileged", False), name
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
            assert "memory" in c["resources"]["limits"], name


def test_service_accounts_do_not_mount_tokens(manifests):
    for sa in manifests.of_kind("ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False, sa["metadata"]["name"]


def test_casefold_pods_write_only_to_an_empty_dir_tmp(manifests):
    for workload, pod in manifests.casefold_pod_specs():
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod["containers"]:
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]  # noqa: S108 - a mount path, not a file
            assert len(tmp) == 1, workload["metadata"]["name"]
            assert "emptyDir" in volumes[tmp[0]["name"]], workload["metadata"]["name"]


def test_api_deployment_probes_health_and_readiness(manifests, service, ports):
    deployment = manifests.get("Deployment", service)
    (api,) = deployment["spec"]["template"]["spec"]["containers"]
    assert api["args"] == ["api"]
    assert {"name": "http", "containerPort": ports[service]} in api["ports"]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = {e["name"]: e.get("value") for e in api["env"]}
    assert env[f"{service.upper()}_PORT"] == str(ports[service])
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    assert config[f"{service.upper()}_HOST"] == "0.0.0.0"  # noqa: S104 - a container listens on its pod IP


def test_api_service_targets_the_api_pods(manifests, service, ports):
    svc = manifests.get("Service", service)
    deployment = manifests.get("Deployment", service)
    assert svc["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"] == [{"name": "http", "port": ports[service], "targetPort": "http"}]


def test_each_service_has_a_worker_and_a_migration_job(manifests, service):
    worker = manifests.get("Deployment", f"{service}-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"] == ["worker"]
    assert {"name": "metrics", "containerPort": 9100} in worker["ports"]
    assert manifests.get("Service", f"{service}-worker")["spec"]["clusterIP"] == "None"
    job = manifests.get("Job", f"{service}-migrate")["spec"]["template"]["spec"]
    assert job["restartPolicy"] == "Never"
    assert job["containers"][0]["args"] == ["migrate"]


def test_read_model_rebuild_is_an_on_demand_job(manifests):
    cron = manifests.get("CronJob", "cases-rebuild-read-model")
    assert cron["spec"]["suspend"] is True
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["rebuild-read-model"]


def test_every_process_gets_its_database_url_from_its_own_cluster(manifests):
    for workload, pod in manifests.casefold_pod_specs():
        service = workload["metadata"]["labels"]["app.kubernetes.io/name"]
        for c in pod["containers"]:
            refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "valueFrom" in e}
            assert refs[f"{service.upper()}_DATABASE_URL"] == {"name": f"{service}-db-app", "key": "uri"}


def test_env_vars_carry_the_service_prefix(manifests):
    shared = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"}
    for workload, pod in manifests.casefold_pod_specs():
        prefix = workload["metadata"]["labels"]["app.kubernetes.io/name"].upper() + "_"
        for c in pod["containers"]:
            config = manifests.named("ConfigMap", c["envFrom"][0]["configMapRef"]["name"].rsplit("-", 1)[0])
            names = {e["name"] for e in c["env"]} | set(config["data"])
            assert all(n.startswith(prefix) or n in shared for n in names), sorted(names)


def test_secret_references_resolve(manifests):
    generated = {s["metadata"]["name"]: set(s.get("data", {})) for s in manifests.of_kind("Secret")}
    known = {**OPERATOR_SECRETS, **OUT_OF_BAND_SECRETS, **generated}
    for workload, pod in manifests.pod_specs():
        for c in pod["containers"]:
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in known, (workload["metadata"]["name"], ref)
                    assert ref["key"] in known[ref["name"]], ref
        for v in pod.get("volumes", []):
            if "secret" in v:
                assert v["secret"]["secretName"] in known
                for item in v["secret"].get("items", []):
                    assert item["key"] in known[v["secret"]["secretName"]], item


def test_config_map_references_resolve(manifests):
    names = {c["metadata"]["name"] for c in manifests.of_kind("ConfigMap")}
    for _, pod in manifests.pod_specs():
        for c in pod["containers"]:
            for source in c.get("envFrom", []):
                assert source["configMapRef"]["name"] in names


def test_secrets_stay_out_of_config_maps(manifests):
    for cm in manifests.of_kind("ConfigMap"):
        leaked = [k for k in cm["data"] if re.search(r"PASSWORD|SECRET|RECEIPT_KEY|DATABASE_URL", k)]
        assert not leaked, cm["metadata"]["name"]


def test_least_privilege_secrets(prod):
    def env_names(name):
        return {e["name"] for e in prod.get("Deployment", name)["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert "NOTIFICATIONS_SMTP_PASSWORD" in env_names("notifications-worker")
    assert "NOTIFICATIONS_SMTP_PASSWORD" not in env_names("notifications")
    assert "CASES_KAFKA_SASL_PASSWORD" in env_names("cases-worker")
    assert "CASES_KAFKA_SASL_PASSWORD" not in env_names("cases")
    assert "CASES_RECEIPT_KEY" in env_names("cases")
    assert "ATTACHMENTS_RECEIPT_KEY" in env_names("attachments")
    assert "IDENTITY_SIGNING_KEYS" in env_names("identity")
    assert "IDENTITY_SIGNING_KEYS" not in env_names("identity-worker")


def test_dev_identity_generates_its_own_signing_key(dev):
    api = dev.get("Deployment", "identity")["spec"]["template"]["spec"]["containers"][0]
    assert "IDENTITY_SIGNING_KEYS" not in {e["name"] for e in api["env"]}


def test_each_process_does_one_job(manifests, service):
    """Development defaults would run migrations and workers inside the API; here Jobs and workers do that."""
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    migrations = "IDENTITY_APPLY_MIGRATIONS" if service == "identity" else f"{service.upper()}_RUN_MIGRATIONS"
    assert config[migrations] == "false"
    assert config[f"{service.upper()}_RUN_WORKERS"] == "false"


@pytest.mark.parametrize(("overlay", "environment"), [("dev", "development"), ("prod", "production")])
def test_environment_per_overlay(overlay, environment, request, service):
    manifests = request.getfixturevalue(overlay)
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    assert config[f"{service.upper()}_ENVIRONMENT"] == environment
    assert config[f"{service.upper()}_JWKS_URL"] == "http://identity:8001/api/identity/.well-known/jwks.json"
    assert config[f"{service.upper()}_KAFKA_BOOTSTRAP_SERVERS"] == "casefold-kafka-bootstrap:9092"


def test_images_are_pinned(manifests):
    for _workload, pod in manifests.pod_specs():
        for c in containers(pod):
            image = c["image"]
            assert re.fullmatch(r"[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})", image), image
            assert not image.endswith(":latest"), image


def test_prod_images_are_released_versions(prod):
    for _, pod in prod.pod_specs():
        for c in pod["containers"]:
            assert re.search(r":\d+\.\d+\.\d+$|@sha256:", c["image"]), c["image"]


def test_prod_runs_at_least_two_of_everything(prod, service):
    hpa = prod.get("HorizontalPodAutoscaler", service)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in prod.get("Deployment", service)["spec"], "the HPA owns the API replica count"
    assert prod.get("Deployment", f"{service}-worker")["spec"]["replicas"] >= 2


def test_prod_disruption_budgets_cover_every_casefold_deployment(prod):
    budgets = [p["spec"]["selector"]["matchLabels"] for p in prod.of_kind("PodDisruptionBudget")]
    for d in prod.of_kind("Deployment"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        if labels.get("app.kubernetes.io/part-of") == "casefold":
            assert any(all(labels.get(k) == v for k, v in b.items()) for b in budgets), d["metadata"]["name"]


def test_dev_runs_one_of_everything_without_autoscaling(dev):
    assert not dev.of_kind("HorizontalPodAutoscaler", "PodDisruptionBudget")
    assert all(d["spec"].get("replicas", 1) == 1 for d in dev.of_kind("Deployment"))
