"""Render the kustomize overlays once per session; every deploy test reads the rendered objects."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = {"identity": 8001, "cases": 8002, "attachments": 8003, "notifications": 8004}
NAMESPACE = "casefold"

Obj = dict[str, Any]


@dataclass(frozen=True)
class Manifests:
    overlay: str
    objects: tuple[Obj, ...]

    def of_kind(self, *kinds: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] in kinds]

    def get(self, kind: str, name: str) -> Obj:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.overlay}: expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def named(self, kind: str, prefix: str) -> Obj:
        """A generated object (ConfigMap, Secret) by its name before kustomize's hash suffix."""
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"].rsplit("-", 1)[0] == prefix]
        assert len(found) == 1, f"{self.overlay}: expected one generated {kind} {prefix}-<hash>, found {len(found)}"
        return found[0]

    def pod_specs(self) -> Iterator[tuple[Obj, Obj]]:
        """(workload, pod spec) for every Deployment, Job and CronJob."""
        for o in self.of_kind("Deployment", "Job"):
            yield o, o["spec"]["template"]["spec"]
        for o in self.of_kind("CronJob"):
            yield o, o["spec"]["jobTemplate"]["spec"]["template"]["spec"]

    def casefold_pod_specs(self) -> Iterator[tuple[Obj, Obj]]:
        """Only the Casefold services' own processes (not the collector, nor the portal's static server)."""
        for o, pod in self.pod_specs():
            labels = o["metadata"]["labels"]
            if labels.get("app.kubernetes.io/part-of") == "casefold" and labels["app.kubernetes.io/name"] in SERVICES:
                yield o, pod


@cache
def render(target: str) -> Manifests:
    done = subprocess.run(
        ["/usr/bin/kubectl", "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {target} failed:\n{done.stderr}"
    objects = tuple(o for o in yaml.safe_load_all(done.stdout) if o)
    return Manifests(target.rsplit("/", 1)[-1], objects)


@pytest.fixture(params=OVERLAYS)
def manifests(request: pytest.FixtureRequest) -> Manifests:
    return render(f"overlays/{request.param}")


@pytest.fixture
def prod() -> Manifests:
    return render("overlays/prod")


@pytest.fixture
def dev() -> Manifests:
    return render("overlays/dev")


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, ...]]:
    """(INSTRUCTION, arguments) per logical line, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in logical.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def stages_of(dockerfile: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(FROM arguments, [(INSTRUCTION, arguments), ...]) per build stage."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for instruction, args in dockerfile_instructions(dockerfile):
        if instruction.upper() == "FROM":
            found.append((args, []))
        else:
            found[-1][1].append((instruction.upper(), args))
    return found


@pytest.fixture
def dockerfile_stages() -> Callable[[Path], list[tuple[str, list[tuple[str, str]]]]]:
    """Dockerfiles cannot be built here (no Docker engine): they are parsed and held to rules instead."""
    return stages_of


@pytest.fixture
def ports() -> dict[str, int]:
    """Each service's API port."""
    return dict(SERVICES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", list(SERVICES))
