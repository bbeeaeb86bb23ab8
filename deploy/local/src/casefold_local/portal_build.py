"""Build the portal when its sources changed: `npm ci` when the lock changed, `vite build` when any source did.

`make run` and the browser tests call build(); the hashes that say "nothing changed" live in the stamp folder
(`.casefold/portal/` for `make run`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from casefold_local.errors import InfraError

# Not sources: what npm and vite write, and editors' and tools' folders.
SKIPPED_DIRS = frozenset({"node_modules", "dist", "coverage", ".vite", ".cache", ".git", ".idea", ".vscode"})
Report = Callable[[str], None]


@dataclass(frozen=True)
class Built:
    """A finished build: where its files are, and whether this call ran npm ci / vite build."""

    dist: Path
    installed: bool
    rebuilt: bool


def portal_source_dir() -> Path:
    """$CASEFOLD_PORTAL_DIR, else ./portal (make runs from the repository root)."""
    return Path(os.environ.get("CASEFOLD_PORTAL_DIR", Path.cwd() / "portal")).resolve()


def source_files(portal: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(portal):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            yield Path(root) / name


def sources_hash(portal: Path) -> str:
    digest = hashlib.sha256()
    for path in source_files(portal):
        digest.update(str(path.relative_to(portal)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def mirror(source: Path, target: Path) -> Path:
    """Copy a portal's sources into target (node_modules and dist kept there), so a build never writes in source."""
    wanted = {p.relative_to(source) for p in source_files(source)}
    for rel in wanted:
        src, dst = source / rel, target / rel
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    for stale in [p for p in source_files(target) if p.relative_to(target) not in wanted]:
        stale.unlink()
    return target


def _run(command: list[str], cwd: Path, log: Path, what: str, timeout: float) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        try:
            result = subprocess.run(
                command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                timeout=timeout, check=False, env={**os.environ, "CI": "true", "NO_UPDATE_NOTIFIER": "1"},
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise InfraError(f"portal: {what} took over {timeout:.0f}s; see {log}") from exc
    if result.returncode != 0:
        raise InfraError(f"portal: {what} failed (exit {result.returncode}); see {log}")


def npm() -> str:
    found = shutil.which("npm")
    if found is None or shutil.which("node") is None:
        raise InfraError("portal: node and npm are needed to build it (Node 20: `apt-get install -y nodejs npm`)")
    return found


def npm_ci(package: Path, stamps: Path, report: Report = print) -> bool:
    """`npm ci` when node_modules is missing or package-lock.json changed since the last one; True when it ran."""
    stamps.mkdir(parents=True, exist_ok=True)
    lock_stamp = stamps / "package-lock.sha256"
    lock = file_hash(package / "package-lock.json")
    if (package / "node_modules").is_dir() and lock_stamp.exists() and lock_stamp.read_text() == lock:
        return False
    report(f"casefold: npm ci in {package} ...")
    lock_stamp.unlink(missing_ok=True)
    _run([npm(), "ci", "--no-audit", "--no-fund"], package, stamps / "npm-ci.log", "npm ci", 600)
    lock_stamp.write_text(lock)
    return True


def build(portal: Path, stamps: Path, report: Report = print, dist: Path | None = None) -> Built | None:
    """npm ci if node_modules is missing or package-lock.json changed; vite build if any source changed.

    None (with a warning) when there is no portal yet. InfraError, one line naming the log, when node or npm is
    missing or a step fails.
    """
    portal, stamps = portal.resolve(), stamps.resolve()
    if not (portal / "package.json").is_file():
        report(f"casefold: warning: no portal at {portal} (no package.json yet); serving the API only")
        return None
    dist = (dist or portal / "dist").resolve()
    build_stamp = stamps / "sources.sha256"
    installed = npm_ci(portal, stamps, report)
    if installed:
        build_stamp.unlink(missing_ok=True)
    sources = sources_hash(portal) + str(dist)
    if build_stamp.exists() and build_stamp.read_text() == sources and (dist / "index.html").is_file():
        return Built(dist, installed, rebuilt=False)
    vite = portal / "node_modules" / ".bin" / "vite"
    if not vite.exists():
        raise InfraError(f"portal: {vite} is missing; is vite in the portal's devDependencies?")
    report("casefold: portal: vite build ...")
    build_stamp.unlink(missing_ok=True)
    _run([str(vite), "build", "--outDir", str(dist), "--emptyOutDir"], portal, stamps / "build.log", "vite build", 600)
    if not (dist / "index.html").is_file():
        raise InfraError(f"portal: vite build wrote no index.html in {dist}; see {stamps / 'build.log'}")
    build_stamp.write_text(sources)
    return Built(dist, installed, rebuilt=True)
