"""Every process gets what its Settings refuse to start without, and every service can check token revocation."""

from __future__ import annotations

from typing import Any

RECEIPT_KEY = {"cases": "CASES_ATTACHMENT_RECEIPT_KEY", "attachments": "ATTACHMENTS_RECEIPT_KEY"}
REVOKED_TOKENS = "http://identity:8001/internal/identity/revoked-tokens"


def test_every_cases_and_attachments_process_gets_the_receipt_key(manifests: Any) -> None:
    for workload, pod in manifests.casefold_pod_specs():
        service = workload["metadata"]["labels"]["app.kubernetes.io/name"]
        if service not in RECEIPT_KEY:
            continue
        for container in pod["containers"]:
            names = {e["name"] for e in container.get("env", [])}
            assert RECEIPT_KEY[service] in names, f"{workload['kind']}/{workload['metadata']['name']} lacks the key"


def test_services_other_than_identity_poll_the_revocation_list(manifests: Any, service: str) -> None:
    if service == "identity":
        return  # identity checks its own database
    config = manifests.named("ConfigMap", f"{service}-config")["data"]
    assert config[f"{service.upper()}_REVOKED_TOKENS_URL"] == REVOKED_TOKENS
