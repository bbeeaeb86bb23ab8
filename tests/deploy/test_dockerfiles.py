"""The service Dockerfile cannot be built here (no Docker engine); it is parsed and held to the rules instead.

One Dockerfile (services/Dockerfile) builds every service: the build argument SERVICE names it. The tests read it as
`docker build --build-arg SERVICE=<service>` would, once per service.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "services" / "Dockerfile"
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip|uv)\b")


def instructions(service):
    """(INSTRUCTION, arguments) per logical line, continuation lines joined, comments dropped, SERVICE substituted."""
    text = DOCKERFILE.read_text().replace("${SERVICE}", service)
    logical = re.sub(r"\\\n", " ", text)
    lines = [line.strip() for line in logical.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def stages(service):
    found = []
    for instruction, args in instructions(service):
        if instruction.upper() == "FROM":
            found.append((args, []))
        elif found:
            found[-1][1].append((instruction.upper(), args))
    return found


def test_one_dockerfile_serves_every_service():
    assert DOCKERFILE.is_file()
    assert sorted(p.relative_to(REPO).as_posix() for p in (REPO / "services").glob("*/Dockerfile")) == []


def test_build_is_multi_stage_on_slim_python(service):
    built = stages(service)
    assert len(built) >= 2
    for base, _ in built:
        image = base.split()[0]
        assert image == "python:3.11-slim", image
        assert not image.endswith(":latest")
    assert built[0][0].split()[-1] == "builder"


def test_every_stage_declares_the_service_argument(service):
    for _, steps in stages(service):
        assert ("ARG", "SERVICE") in steps


def test_a_build_without_the_service_argument_stops_with_a_message():
    _, steps = stages("${SERVICE}")[0]
    first_run = next(args for instruction, args in steps if instruction == "RUN")
    assert first_run.startswith(': "${SERVICE:?build with --build-arg SERVICE=')


def test_builder_installs_pinned_uv_and_syncs_only_this_service(service):
    _, steps = stages(service)[0]
    runs = [args for instruction, args in steps if instruction == "RUN"]
    assert any("pip install --no-cache-dir uv==0.13.8" in run for run in runs)
    syncs = [sync for run in runs for sync in re.findall(r"\buv sync ([^&;]+)", run)]
    assert len(syncs) == 2
    for sync in syncs:
        assert {"--frozen", "--no-dev", "--package", f"casefold-{service}"} <= set(sync.split())
    envs = " ".join(args for instruction, args in steps if instruction == "ENV")
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in envs


def test_final_stage_runs_as_a_numeric_non_root_user_without_build_tools(service):
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


def test_final_stage_names_the_service_and_exposes_the_port_argument(service):
    _, steps = stages(service)[-1]
    final = dict(steps)
    assert "PATH=/app/.venv/bin:$PATH" in final["ENV"]
    assert f"CASEFOLD_SERVICE={service}" in final["ENV"]
    assert final["EXPOSE"] == "${PORT}"
    assert json.loads(final["CMD"]) == ["api"]


def test_entrypoint_execs_the_service_module_with_the_given_command(service, tmp_path):
    _, steps = stages(service)[-1]
    entrypoint = json.loads(dict(steps)["ENTRYPOINT"])
    fake = tmp_path / "python"  # stands in for the venv's interpreter: prints how it was called
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CASEFOLD_SERVICE": service}

    def run(*args):
        return subprocess.run([*entrypoint, *args], env=env, capture_output=True, text=True, check=True).stdout

    assert run("api") == f"-m {service} api\n"
    assert run("worker") == f"-m {service} worker\n"
    assert run("migrate", "--help") == f"-m {service} migrate --help\n"


def test_the_runbook_builds_each_image_with_its_service_and_port(ports):
    runbook = (REPO / "docs" / "runbook.md").read_text()
    build = r"docker build -f services/Dockerfile --build-arg SERVICE=(\w+) --build-arg PORT=(\d+)"
    builds = re.findall(build + r" -t ghcr\.io/casefold/(\w+)", runbook)
    assert sorted((service, int(port)) for service, port, _ in builds) == sorted(ports.items())
    assert all(service == image for service, _, image in builds)


def test_build_context_leaves_out_local_state_and_git():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".casefold"} <= ignored
    # The workspace needs every member's pyproject.toml, deploy/local's included.
    assert not {"uv.lock", "pyproject.toml", "libs", "services", "deploy", "deploy/local"} & ignored
