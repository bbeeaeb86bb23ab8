"""`make run`: bring up PostgreSQL, Kafka, the inbox, every service and the gateway; stop it all on Ctrl-C."""

from __future__ import annotations

import signal
import time

from casefold_local import portal_build, stack
from casefold_local.errors import InfraError
from casefold_local.procs import state_root
from casefold_local.system import System


def infra_up() -> None:
    """Start (or reuse) the servers this machine runs; external ones named in the environment are left alone."""
    if stack.external_database_url() is None:
        stack.postgres().start()
    if stack.external_kafka() is None:
        stack.kafka().start()


def infra_down() -> None:
    stack.kafka().stop()
    stack.postgres().stop()


def describe_infra() -> list[str]:
    lines = []
    db = stack.external_database_url()
    lines.append(f"postgres  external {db.split('@')[-1]}" if db else stack.postgres().describe())
    bootstrap = stack.external_kafka()
    lines.append(f"kafka     external {bootstrap}" if bootstrap else stack.kafka().describe())
    return lines


def system() -> System:
    return System(stack.layout(), report=lambda line: print(line, flush=True))


def stop_services() -> None:
    """Gateway, services and inbox of `make run`, found by their pid files (another terminal may have started them)."""
    system().stop()


def describe_system() -> list[str]:
    current = system()
    lines = [current.gateway.describe()]
    for process in current.all_processes():
        pid = process.pid()
        lines.append(f"{process.name:<13} {'running  pid ' + str(pid) if pid else 'stopped'}")
    return lines


def build_portal() -> None:
    """npm ci / vite build when the portal's sources changed (stamps in .casefold/portal/); warns when none yet."""
    source = portal_build.portal_source_dir()
    built = portal_build.build(source, state_root() / "portal", report=lambda line: print(line, flush=True))
    if built is not None and not built.rebuilt:
        print(f"casefold: portal: up to date ({built.dist})", flush=True)


def run() -> int:
    """Foreground: everything up, URLs printed, Ctrl-C (or SIGTERM) stops everything cleanly."""
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    try:
        build_portal()
    except InfraError as exc:
        print(f"casefold-local: {exc}", flush=True)
        return 1
    current = system()
    try:
        print("casefold: starting PostgreSQL and Kafka ...", flush=True)
        infra_up()
        current.start()
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        print("\n".join(current.describe()))  # the portal first: where a person goes
        print("\n".join(describe_infra()))
        print("\nCasefold is running. Press Ctrl-C to stop everything (or run `make stop` elsewhere).", flush=True)
        while not stopping:
            time.sleep(0.5)
            if current.stopped_elsewhere():
                print("\ncasefold: stopped from another terminal (make stop).", flush=True)
                break
            current.check_alive()  # restarts a crashed service with backoff, as Kubernetes would
    except InfraError as exc:
        print(f"casefold-local: {exc}", flush=True)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\ncasefold: stopping ...", flush=True)
        current.stop()
        infra_down()
        print("casefold: stopped.")
    return 0
