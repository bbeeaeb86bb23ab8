"""The service Dockerfiles cannot be built here (no Docker engine); they are parsed and held to the rules instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip|uv)\b")


@pytest.fixture
def stages(dockerfile_stages):
    """The build stages of one service's Dockerfile."""
    return lambda service: dockerfile_stages(REPO / "services" / service / "Dockerfile")


def test_build_is_multi_stage_on_slim_python(stages, service):
    built = stages(service)
    assert len(built) >= 2
    for base, _ in built:
        image = base.split()[0]
        assert image == "python:3.11-slim", image
        assert not image.endswith(":latest")
    assert built[0][0].split()[-1] == "builder"


def test_builder_installs_pinned_uv_and_syncs_only_this_service(stages, service):
    _, steps = stages(service)[0]
    runs = " ".join(args for instruction, args in steps if instruction == "RUN")
    assert "pip install --no-cache-dir uv==0.13.8" in runs
    syncs = re.findall(r"uv sync ([^&;]+)", runs)
    assert syncs
    for sync in syncs:
        assert {"--frozen", "--no-dev", "--package", f"casefold-{service}"} <= set(sync.split())
    envs = " ".join(args for instruction, args in steps if instruction == "ENV")
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in envs


def test_final_stage_runs_as_a_numeric_non_root_user_without_build_tools(stages, service):
    _, steps = stages(service)[-1]
    (user,) = [args for instruction, args in steps if instruction == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) == 10001
    for instruction, args in steps:
        if instruction == "RUN":
            assert not BUILD_TOOLS.search(args), args
    copies = [args for instruction, args in steps if instruction == "COPY"]
    assert copies == ["--from=builder /app/.venv /app/.venv"], "only the virtualenv leaves the builder"
    names = [name for name, _ in steps]
    assert names.index("USER") > max(k for k, name in enumerate(names) if name in {"RUN", "COPY"}), "USER comes last"


def test_entrypoint_is_the_service_module_serving_its_api(stages, service, ports):
    _, steps = stages(service)[-1]
    final = dict(steps)
    assert json.loads(final["ENTRYPOINT"]) == ["python", "-m", service]
    assert json.loads(final["CMD"]) == ["api"]
    assert final["EXPOSE"] == str(ports[service])
    assert "PATH=/app/.venv/bin:$PATH" in final["ENV"]


def test_build_context_leaves_out_local_state_and_git():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".casefold"} <= ignored
    # The workspace needs every member's pyproject.toml, deploy/local's included.
    assert not {"uv.lock", "pyproject.toml", "libs", "services", "deploy", "deploy/local"} & ignored
