"""casefold-local: start, stop and inspect the local stack (PostgreSQL, Kafka, inbox, services, gateway)."""

from __future__ import annotations

import argparse
import sys

from casefold_local import supervisor
from casefold_local.errors import InfraError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="casefold-local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="bring up everything in the foreground; Ctrl-C stops it all")
    sub.add_parser("up", help="start PostgreSQL and Kafka in the background (idempotent)")
    sub.add_parser("down", help="stop the services and the servers this machine runs")
    sub.add_parser("status", help="what runs where")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return supervisor.run()
        if args.command == "up":
            supervisor.infra_up()
        elif args.command == "down":
            supervisor.stop_services()
            supervisor.infra_down()
        print("\n".join(supervisor.describe_infra()))
        if args.command == "status":
            print("\n".join(supervisor.describe_system()))
    except InfraError as exc:
        print(f"casefold-local: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
