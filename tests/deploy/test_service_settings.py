"""Every process gets what its Settings refuse to start without, and every service can check token revocation."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

RECEIPT_KEY = {"cases": "CASES_RECEIPT_KEY", "attachments": "ATTACHMENTS_RECEIPT_KEY"}
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


def _accepted_names(settings_class: type[BaseSettings]) -> set[str]:
    """Every environment variable the Settings class reads (prefix + field, or its aliases)."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def _variables_set_for(manifests: Any, service: str) -> set[str]:
    """The names the manifests give a service's processes: its ConfigMap and its containers' env."""
    names = set(manifests.named("ConfigMap", f"{service}-config")["data"])
    for workload, pod in manifests.casefold_pod_specs():
        if workload["metadata"]["labels"]["app.kubernetes.io/name"] == service:
            for container in pod["containers"]:
                names |= {e["name"] for e in container.get("env", [])}
    return {n for n in names if n.startswith(f"{service.upper()}_")}


def test_every_variable_the_manifests_set_is_read_by_the_service(manifests: Any, service: str) -> None:
    settings_class = importlib.import_module(f"{service}.config").Settings
    unread = _variables_set_for(manifests, service) - _accepted_names(settings_class)
    assert not unread, f"{service}: the manifests set variables its Settings ignore: {sorted(unread)}"
