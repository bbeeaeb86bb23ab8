"""One command line for every service: `python -m <service> api | worker | migrate | <extras>`.

`--help` works on the program and on each command; with no command the usage is printed. Exit codes: 0 done, 1 the
command failed (it returned 1 or raised), 2 a usage error (argparse's), 130 interrupted by Ctrl-C. Logging and tracing
are configured once, before the command runs, from the service's Settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog

from casefold_platform.logging import configure_logging
from casefold_platform.settings import ServiceSettings
from casefold_platform.tracing import configure_tracing

S = TypeVar("S", bound=ServiceSettings)
Result = int | None
Handler = Callable[[S, argparse.Namespace], Result | Coroutine[Any, Any, Result]]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _no_arguments(_: argparse.ArgumentParser) -> None:
    return None


@dataclass(frozen=True)
class Command(Generic[S]):
    """A subcommand: its name, one line of help, the handler (plain or async) and its own arguments."""

    name: str
    help: str
    run: Handler[S]
    arguments: Callable[[argparse.ArgumentParser], None] = field(default=_no_arguments)
    # The process's default OTel service.name is the service's plus this ("-worker": cases-worker).
    trace_suffix: str = ""


def parser_for(service: str, description: str, commands: Sequence[Command[S]]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {service}", description=description)
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in commands:
        command.arguments(subcommands.add_parser(command.name, help=command.help, description=command.help))
    return parser


def run_cli(
    service: str,
    description: str,
    commands: Sequence[Command[S]],
    settings: Callable[[], S],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse argv, build the Settings, configure logging and tracing, run the command; its exit code."""
    parser = parser_for(service, description, commands)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    command = next(c for c in commands if c.name == args.command)
    built = settings()
    configure_logging(service, built.log_level)
    configure_tracing(service + command.trace_suffix)
    try:
        outcome = command.run(built, args)
        result = asyncio.run(outcome) if isinstance(outcome, Coroutine) else outcome
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        structlog.get_logger(service).exception("command_failed", command=command.name, error=type(exc).__name__)
        return EXIT_FAILED
    return EXIT_OK if result is None else result
