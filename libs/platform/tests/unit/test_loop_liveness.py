"""A background loop that dies takes its worker down (LoopDied, exit 1) and fails the liveness answers: the worker's
GET /livez and the API's /healthz (where the loops run in the API process)."""

from __future__ import annotations

import argparse
import asyncio

import httpx
import pytest
from pydantic_settings import SettingsConfigDict

from casefold_events.loops import BackgroundLoop, LoopDied
from casefold_platform.app import service_app
from casefold_platform.cli import EXIT_FAILED, Command, run_cli
from casefold_platform.health import serve_liveness
from casefold_platform.settings import ServiceSettings
from casefold_platform.worker import Parts, run_until_signalled


class Dies(BackgroundLoop):
    """Runs until told to die (an unexpected exception, as a bug in a handler path would raise)."""

    task_name = "dies-on-demand"

    def __init__(self) -> None:
        super().__init__()
        self.die = asyncio.Event()

    async def run(self) -> None:
        while not self.stopping:
            if self.die.is_set():
                raise KeyError("no such partition")
            await self.pause(0.01)


class Recorder:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def start(self) -> None:
        self.log.append("start")

    async def stop(self) -> None:
        self.log.append("stop")


async def test_the_runner_stops_every_part_and_raises_when_a_loop_dies() -> None:
    log: list[str] = []
    loop = Dies()
    running = asyncio.create_task(run_until_signalled(Parts(Recorder(log), loop)))
    await asyncio.sleep(0.05)
    assert not running.done()  # alive loops: the runner waits for a signal
    loop.die.set()
    with pytest.raises(LoopDied, match="dies-on-demand died: KeyError"):
        await asyncio.wait_for(running, timeout=5)
    assert log == ["start", "stop"]


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")


async def _worker_whose_loop_dies(settings: DemoSettings, _: argparse.Namespace) -> None:
    loop = Dies()
    loop.die.set()
    await run_until_signalled(loop)


def test_a_worker_whose_loop_died_exits_non_zero() -> None:
    commands = [Command("worker", "a worker whose loop dies", _worker_whose_loop_dies)]
    assert run_cli("demo", "Demo.", commands, DemoSettings, ["worker"]) == EXIT_FAILED


async def test_livez_answers_200_while_the_loops_live_and_503_once_one_died(unused_tcp_port: int) -> None:
    loop = Dies()
    server = await serve_liveness(unused_tcp_port, host="127.0.0.1")
    await loop.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{unused_tcp_port}") as client:
            alive = await client.get("/livez")
            assert alive.status_code == 200
            assert alive.json()["loops"]["dies-on-demand"] == "ok"  # (other tests may leave loops of their own)
            loop.die.set()
            await asyncio.sleep(0.05)
            dead = await client.get("/livez")
            assert dead.status_code == 503
            assert dead.json()["loops"]["dies-on-demand"].startswith("died: KeyError")
            assert (await client.get("/metrics")).status_code == 404
    finally:
        await loop.stop()
        server.close()
        await server.wait_closed()


async def test_healthz_fails_while_a_loop_of_the_api_process_is_dead() -> None:
    loop = Dies()
    loop.die.set()
    await loop.start()
    await asyncio.sleep(0.05)
    # On the event loop that runs the loop, as uvicorn serves the app whose lifespan started it.
    app = service_app("cases")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cases") as client:
        try:
            response = await client.get("/healthz")
            assert response.status_code == 503
            assert response.json()["status"] == "failing"
            assert response.json()["loops"][loop.task_name].startswith("died")
        finally:
            await loop.stop()
        # Other tests of a long run may leave loops of their own on this event loop: only ours must be gone.
        assert loop.task_name not in (await client.get("/healthz")).json().get("loops", {})
