"""Session fixtures: stub upstreams with identity's JWKS, and one Envoy with the generated config."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from gateway.gateway_stubs import SERVICES, RunningGateway, Stub, start_gateway, write_fixture_dist

from casefold_local.gateway_config import Upstream
from casefold_local.managed import ManagedProcess
from casefold_local.procs import free_port, port_open, wait_until
from casefold_testing.tokens import TestTokenIssuer


@pytest.fixture(scope="session")
def issuer() -> TestTokenIssuer:
    return TestTokenIssuer()


@pytest.fixture(scope="session")
def upstreams(issuer: TestTokenIssuer) -> Iterator[tuple[Upstream, ...]]:
    stubs = [Stub(name, free_port(), issuer.jwks() if name == "identity" else None) for name in SERVICES]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True) for s in stubs]
    for thread in threads:
        thread.start()
    try:
        yield tuple(Upstream(s.name, s.server_address[1]) for s in stubs)
    finally:
        for stub in stubs:
            stub.shutdown()
            stub.server_close()


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """The real portal server (`python -m casefold_local.portal`, as make run starts it) over a small built dist."""
    root = tmp_path_factory.mktemp("portal")
    dist = write_fixture_dist(root / "dist")
    port = free_port()
    process = ManagedProcess("portal", [sys.executable, "-m", "casefold_local.portal", "--dist", str(dist),
                                        "--port", str(port)], root, marker=str(dist))  # fmt: skip
    process.start()
    try:
        wait_until(lambda: port_open(port), 20, "portal server", process.log_file)
        yield Upstream("portal", port)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstreams: tuple[Upstream, ...], portal: Upstream, issuer: TestTokenIssuer
) -> Iterator[RunningGateway]:
    running = start_gateway(
        tmp_path_factory.mktemp("gateway"), upstreams, login_burst=3, login_fill_seconds=600, portal=portal
    )
    try:
        yield RunningGateway(running.settings.url, running.settings, issuer)
    finally:
        running.stop()
