"""make run's portal build: npm ci only when the lock changed, vite build only when a source changed, clear failures.

A tiny portal whose `vite` is a local package (npm ci links it offline in a fraction of a second) stands in for the
real one; the browser tests build the real portal with the same function.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from casefold_local.errors import InfraError
from casefold_local.portal_build import build, mirror

FAKE_VITE = """#!/usr/bin/env node
const fs = require("fs"); const path = require("path");
const out = process.argv[process.argv.indexOf("--outDir") + 1];
if (fs.existsSync("FAIL")) { console.error("build broke on purpose"); process.exit(2); }
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "index.html"), "<!doctype html><title>" + fs.readFileSync("src/main.ts", "utf8"));
fs.appendFileSync("node_modules/.builds", "x");  // not a source: the next hash must not see it
"""
LOCK = {
    "name": "p", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
    "packages": {
        "": {"name": "p", "version": "1.0.0", "devDependencies": {"vite": "file:./fake-vite"}},
        "fake-vite": {"name": "vite", "version": "0.0.0", "dev": True, "bin": {"vite": "vite.js"}},
        "node_modules/vite": {"resolved": "fake-vite", "link": True},
    },
}  # fmt: skip


def _portal(root: Path) -> Path:
    (root / "fake-vite").mkdir(parents=True)
    (root / "fake-vite" / "package.json").write_text(json.dumps({"name": "vite", "version": "0.0.0",
                                                                "bin": {"vite": "vite.js"}}))  # fmt: skip
    (root / "fake-vite" / "vite.js").write_text(FAKE_VITE)
    (root / "fake-vite" / "vite.js").chmod(0o755)
    (root / "package.json").write_text(json.dumps({"name": "p", "version": "1.0.0", "private": True,
                                                  "devDependencies": {"vite": "file:./fake-vite"}}))  # fmt: skip
    (root / "package-lock.json").write_text(json.dumps(LOCK))
    (root / "src").mkdir()
    (root / "src" / "main.ts").write_text("first")
    return root


def _builds(portal: Path) -> int:
    count = portal / "node_modules" / ".builds"
    return len(count.read_text()) if count.exists() else 0


def test_first_build_installs_and_builds_then_an_unchanged_portal_is_left_alone(tmp_path: Path) -> None:
    portal = _portal(tmp_path / "portal")

    first = build(portal, tmp_path / "stamps", report=lambda _: None)
    second = build(portal, tmp_path / "stamps", report=lambda _: None)

    assert first is not None
    assert first.installed
    assert first.rebuilt
    assert second is not None
    assert not second.installed
    assert not second.rebuilt
    assert (portal / "dist" / "index.html").read_text().endswith("first")
    assert _builds(portal) == 1


def test_a_changed_source_rebuilds_without_reinstalling(tmp_path: Path) -> None:
    portal = _portal(tmp_path / "portal")
    build(portal, tmp_path / "stamps", report=lambda _: None)
    (portal / "src" / "main.ts").write_text("second")

    again = build(portal, tmp_path / "stamps", report=lambda _: None)

    assert again is not None
    assert again.rebuilt
    assert not again.installed
    assert (portal / "dist" / "index.html").read_text().endswith("second")


def test_a_changed_lock_or_missing_node_modules_runs_npm_ci_again(tmp_path: Path) -> None:
    portal = _portal(tmp_path / "portal")
    build(portal, tmp_path / "stamps", report=lambda _: None)
    shutil.rmtree(portal / "node_modules")

    after_wipe = build(portal, tmp_path / "stamps", report=lambda _: None)
    lock = json.loads((portal / "package-lock.json").read_text())
    (portal / "package-lock.json").write_text(json.dumps(lock, indent=1))
    after_lock_change = build(portal, tmp_path / "stamps", report=lambda _: None)

    assert after_wipe is not None
    assert after_wipe.installed
    assert after_lock_change is not None
    assert after_lock_change.installed
    assert after_lock_change.rebuilt


def test_a_failed_build_names_its_log_and_is_retried_next_time(tmp_path: Path) -> None:
    portal = _portal(tmp_path / "portal")
    (portal / "FAIL").write_text("")

    with pytest.raises(InfraError, match=r"vite build failed \(exit 2\); see .*build\.log"):
        build(portal, tmp_path / "stamps", report=lambda _: None)
    assert "build broke on purpose" in (tmp_path / "stamps" / "build.log").read_text()
    (portal / "FAIL").unlink()
    assert build(portal, tmp_path / "stamps", report=lambda _: None) is not None
    assert (portal / "dist" / "index.html").exists()


def test_no_portal_yet_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    said: list[str] = []

    assert build(tmp_path / "portal", tmp_path / "stamps", report=said.append) is None
    assert "warning" in said[0]
    assert "package.json" in said[0]


def test_a_mirror_builds_elsewhere_and_never_writes_in_the_source(tmp_path: Path) -> None:
    source = _portal(tmp_path / "source")
    before = sorted(p.name for p in source.rglob("*"))

    work = mirror(source, tmp_path / "work")
    built = build(work, tmp_path / "stamps", report=lambda _: None)
    (source / "src" / "gone.ts").write_text("x")
    mirror(source, work)
    (source / "src" / "gone.ts").unlink()
    mirror(source, work)

    assert built is not None
    assert built.dist == (work / "dist").resolve()
    assert not (work / "src" / "gone.ts").exists()
    assert sorted(p.name for p in source.rglob("*")) == before
