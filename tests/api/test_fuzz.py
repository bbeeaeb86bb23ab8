"""schemathesis against each service's own OpenAPI document, on the running system, as each kind of caller.

Every answer must be documented: no 5xx, a documented status code, a documented content type, a body valid against
the documented schema and the documented headers. The examples are derived from a fixed seed (derandomize), so a
failure here fails the same way on every machine; CASEFOLD_FUZZ_EXAMPLES (default 4 a mode, per operation and
caller) explores further locally, e.g. `CASEFOLD_FUZZ_EXAMPLES=200 uv run pytest tests/api/test_fuzz.py`.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import pytest
import schemathesis
from api.api_world import FUZZER_ADDRESS, World
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The first test here also waits for the whole system and its people (a few minutes on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]

SERVICES = ("identity", "cases", "attachments", "notifications")
CALLERS = ("anonymous", "customer_a", "agent", "admin")
EXAMPLES = int(os.environ.get("CASEFOLD_FUZZ_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


def _failures(exc: BaseException) -> list[Failure]:
    if isinstance(exc, FailureGroup):
        return list(exc.exceptions)
    if isinstance(exc, Failure):
        return [exc]
    raise exc


def _fuzz(operation: Any, base_url: str, headers: dict[str, str]) -> dict[str, str]:
    """Every distinct failure of one operation (title and message -> a curl that shows it)."""
    found: dict[str, str] = {}
    strategy = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in MODES))

    @settings(
        max_examples=EXAMPLES * len(MODES),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as exc:
            for failure in _failures(exc):
                key = f"{failure.title}: {failure.message.strip()[:400]}"
                found.setdefault(key, case.as_curl_command(headers=headers))

    run()
    return found


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_answer_is_documented(world: World, service: str, caller: str) -> None:
    base_url = world.layout.service(service).url
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"X-Forwarded-For": FUZZER_ADDRESS}
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {world.fresh_token(caller)}"

    started = time.monotonic()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for what, curl in _fuzz(operation, base_url, headers).items():
            failures.append(f"{operation.method.upper()} {operation.path}: {what}\n    {curl}")
    elapsed = time.monotonic() - started

    print(f"fuzz {service} as {caller}: {operations} operations x {EXAMPLES * len(MODES)} examples in {elapsed:.1f}s")
    assert operations > 0
    assert not failures, f"{len(failures)} undocumented answers:\n" + "\n".join(failures)
