"""The OpenAPI document names every answer a cases route can give, errors as problem+json."""

from __future__ import annotations

from typing import Any

import pytest

from cases.config import Settings
from cases.main import create_app

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    openapi: dict[str, Any] = create_app(Settings(environment="test")).openapi()
    return openapi


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/cases")
        for method, op in item.items()
    ]


def test_every_route_documents_its_problems_as_problem_json(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        responses = op["responses"]
        expected = {"401", "503"} | ({"404"} if "{" in path else set())
        if op.get("parameters") or "requestBody" in op:
            expected.add("422")
        if method == "post" and path.endswith(("/comments", "/attachments", "/close", "/api/cases")):
            expected.add("409")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in (s for s in responses if int(s) >= 400):
            assert set(responses[status]["content"]) == {PROBLEM}, (method, path, status)
            assert responses[status]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        assert op.get("description") or op.get("summary"), (method, path)


def test_no_public_route_documents_fastapis_own_validation_error(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in str([op for _, _, op in _operations(document)])
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "error_id"} <= set(problem["required"])


def test_the_new_fields_and_routes_are_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"opened_by_name", "opened_by_email"} <= set(schemas["CaseView"]["properties"])
    assert "opened_by_name" in schemas["CaseSummaryView"]["properties"]
    assert "opened_by_email" not in schemas["CaseSummaryView"]["properties"]
    assert {"author_name", "author_role"} <= set(schemas["CommentView"]["properties"])
    counts = schemas["CaseCounts"]
    # the capped flags were added beside the counts (nothing renamed), and are always sent
    assert set(counts["properties"]) == {"all", "open", "closed", "all_capped", "open_capped", "closed_capped"}
    assert set(counts["required"]) == set(counts["properties"])
    assert set(schemas["SeverityView"]["properties"]) == {"level", "name", "description"}
    assert {"/api/cases/severities", "/api/cases/counts"} <= set(document["paths"])


def test_the_agent_routes_document_every_answer(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for name in ("assignment", "waiting", "severity"):
        answers = set(paths[f"/api/cases/{{case_id}}/{name}"]["post"]["responses"])
        assert {"200", "400", "401", "403", "404", "409", "413", "422", "503"} <= answers, name
    for path in ("/api/cases/queue", "/api/cases/agents"):
        assert {"200", "401", "403", "503"} <= set(paths[path]["get"]["responses"]), path
    queue_parameters = {p["name"] for p in paths["/api/cases/queue"]["get"]["parameters"]}
    assert queue_parameters == {"status", "assignee", "prioritised", "severity", "product", "sla", "due_within_hours",
                                "q", "sort", "cursor", "limit"}  # fmt: skip


def test_the_agent_fields_are_in_the_views(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"waiting_on", "assignee", "customer", "severity_changes", "sla"} <= set(schemas["CaseView"]["properties"])
    assert "waiting_on" in schemas["CaseSummaryView"]["properties"]
    assert {"waiting_on", "assignee", "customer", "next_deadline_at", "breached"} <= set(
        schemas["QueueItemView"]["properties"]
    )
    assert set(schemas["SlaView"]["properties"]) == {
        "first_response_due_at", "first_responded_at", "first_response_breached", "resolution_due_at",
        "resolution_paused", "resolution_remaining_seconds", "resolution_breached",
    }  # fmt: skip
