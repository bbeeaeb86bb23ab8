"""Attachments throughput over HTTP (uvicorn in its own process), beside a plain file copy on the same disk.

    uv run python -m bench attachments [--quick]
    PYTHONPATH=. uv run python services/attachments/bench/bench_attachments.py [--quick] [--size-mb 25] [--files 8]

- upload MB/s: POST /api/attachments, one file per request (multipart, streamed to filesystem storage, hashed,
  sniffed, fsynced, renamed, one row + receipt), sequential and 4 at a time;
- download MB/s: GET /api/attachments/{id} of the same files (authorised, streamed), sequential and 4 at a time;
- baselines, same run, same disk: shutil.copyfile of the same bytes, and copyfile followed by fsync (the service
  fsyncs every blob before its rename).

Servers: CASEFOLD_BENCH_DATABASE_URL (a role that may create databases), else a private PostgreSQL.
Results: a table on stdout and bench/results/attachments.json.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Result, median, print_table, servers, write_results
from casefold_local.databases import create_database, drop_database
from casefold_local.procs import free_port
from casefold_testing.tokens import TestTokenIssuer

ROOT = Path(__file__).resolve().parents[3]

MB = 1_000_000
BOUNDARY = "casefold-bench-boundary"
USER = uuid.UUID("00000000-0000-4000-8000-0000000000b1")


def _serve(database_url: str, storage_dir: str, max_file_bytes: int, jwks: dict[str, Any], port: int) -> None:
    import uvicorn

    from attachments.config import Settings
    from attachments.main import create_app
    from casefold_platform.auth import JwksVerifier
    from casefold_platform.logging import configure_logging

    settings = Settings(
        environment="test", database_url=database_url, storage_dir=storage_dir, max_file_bytes=max_file_bytes,
        run_workers=False, pool_min_size=2, pool_max_size=8,
    )  # fmt: skip
    configure_logging("attachments", "WARNING")
    app = create_app(settings, verifier=JwksVerifier.from_jwks(jwks))
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", access_log=False)


def _payload(size: int, seed: int) -> bytes:
    # A gzip signature followed by incompressible bytes: an allowed type that exercises the whole path.
    return b"\x1f\x8b\x08\x00" + os.urandom(size - 4 - 8) + seed.to_bytes(8, "big")


def _multipart(data: bytes, filename: str) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/gzip\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


async def _mb_per_s(total_bytes: int, concurrency: int, jobs: list[Callable[[], Awaitable[None]]]) -> float:
    queue = list(jobs)

    async def lane() -> None:
        while queue:
            await queue.pop()()

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return total_bytes / MB / (time.perf_counter() - start)


def _copy_mb_per_s(sources: list[Path], target_dir: Path, fsync: bool) -> float:
    start = time.perf_counter()
    for i, source in enumerate(sources):
        target = target_dir / f"copy-{i}"
        shutil.copyfile(source, target)
        if fsync:
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    elapsed = time.perf_counter() - start
    for i in range(len(sources)):
        (target_dir / f"copy-{i}").unlink()
    return sum(s.stat().st_size for s in sources) / MB / elapsed


async def run(admin_dsn: str, *, size: int, files: int, rounds: int) -> list[Result]:
    issuer = TestTokenIssuer()
    headers = issuer.auth_header(user_id=USER)
    dsn = await create_database(admin_dsn, "bench_attachments")
    work = ROOT / ".casefold" / f"bench-attachments-{uuid.uuid4().hex[:6]}"  # the repository's disk
    work.mkdir(parents=True)
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(dsn, str(work / "store"), size + 1024, issuer.jwks(), port)
    )
    server.start()
    samples: dict[str, list[float]] = {k: [] for k in ("up1", "up4", "down1", "down4", "copy", "copy_fsync")}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            async with asyncio.timeout(60):
                while True:
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            sources = []
            for i in range(files):
                path = work / f"source-{i}.gz"
                path.write_bytes(_payload(size, i))
                sources.append(path)
            ids: list[str] = []

            def uploads(round_no: int) -> list[Callable[[], Awaitable[None]]]:
                async def one(i: int) -> None:
                    # Fresh bytes every round: identical ones would hit the content-addressed shortcut.
                    body = _multipart(_payload(size, round_no * 1000 + i), f"bench-{i}.gz")
                    response = await client.post(
                        "/api/attachments", content=body,
                        headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                    )  # fmt: skip
                    response.raise_for_status()
                    ids.append(response.json()[0]["id"])

                return [lambda i=i: one(i) for i in range(files)]  # type: ignore[misc]

            def downloads() -> list[Callable[[], Awaitable[None]]]:
                async def one(attachment_id: str) -> None:
                    async with client.stream("GET", f"/api/attachments/{attachment_id}", headers=headers) as response:
                        response.raise_for_status()
                        async for _ in response.aiter_raw(1024 * 1024):
                            pass

                return [lambda a=a: one(a) for a in ids[-files:]]  # type: ignore[misc]

            total = size * files
            for r in range(rounds + 1):  # round 0 warms up and is dropped
                measured = {
                    "up1": await _mb_per_s(total, 1, uploads(r * 2)),
                    "down1": await _mb_per_s(total, 1, downloads()),
                    "up4": await _mb_per_s(total, 4, uploads(r * 2 + 1)),
                    "down4": await _mb_per_s(total, 4, downloads()),
                    "copy": await asyncio.to_thread(_copy_mb_per_s, sources, work, False),
                    "copy_fsync": await asyncio.to_thread(_copy_mb_per_s, sources, work, True),
                }
                if r:
                    for key, value in measured.items():
                        samples[key].append(value)
    finally:
        server.terminate()
        server.join(10)
        shutil.rmtree(work, ignore_errors=True)
        await drop_database(admin_dsn, dsn)

    copy, copy_fsync = median(samples["copy"]), median(samples["copy_fsync"])
    label = f"{size // MB} MB files"

    def line(key: str, what: str, baseline: float, baseline_name: str, samples_b: list[float]) -> Result:
        return Result(f"{what} ({label})", "MB/s", median(samples[key]), baseline, baseline_name, "report",
                      samples[key], samples_b)  # fmt: skip

    return [
        line("up1", "upload, 1 at a time", copy_fsync, "copyfile+fsync", samples["copy_fsync"]),
        line("up1", "upload, 1 at a time", copy, "copyfile", samples["copy"]),
        line("up4", "upload, 4 at a time", copy_fsync, "copyfile+fsync", samples["copy_fsync"]),
        line("down1", "download, 1 at a time", copy, "copyfile", samples["copy"]),
        line("down4", "download, 4 at a time", copy, "copyfile", samples["copy"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size-mb", type=int, default=25)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size_mb, files, rounds = (5, 4, 1) if args.quick else (args.size_mb, args.files, args.rounds)
    with servers() as infra:
        results = asyncio.run(run(infra.postgres_dsn, size=size_mb * MB, files=files, rounds=rounds))
    print_table("attachments: throughput through the service vs a plain file copy on the same disk", results)
    path = write_results("attachments", results, {"file_size_bytes": size_mb * MB, "files_per_round": files})
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
