"""structlog JSON logs on stdout with service, request id and trace context; stdlib loggers share the renderer."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from casefold_platform.requests import current_request_id

REDACTED = "[redacted]"
_SECRET_PARTS = ("password", "passwd", "secret", "authorization", "cookie", "api_key", "apikey", "private_key")
# A JWT (header.payload.signature, base64url) anywhere in a string value, e.g. inside an error message.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# The password of a URL (postgresql://user:password@host), as exception messages tend to quote DSNs.
_URL_PASSWORD = re.compile(r"(?<=://)([^/\s:@]+):[^/\s@]+@")
_HANDLER_NAME = "casefold-json"


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a field of this name holds a secret (password, token, cookie ...); a log line asks for each of its
    keys, which come from a small set, so the answers are remembered."""
    name = key.lower().replace("-", "_")
    return name.endswith("token") or any(part in name for part in _SECRET_PARTS)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        # Most values hold neither a JWT nor a URL: the substring checks spare them both regular expressions.
        if "eyJ" in value:
            value = _JWT.sub(REDACTED, value)
        if "://" in value:
            value = _URL_PASSWORD.sub(rf"\1:{REDACTED}@", value)
        return value
    if isinstance(value, MutableMapping):
        return {k: REDACTED if isinstance(k, str) and is_secret_key(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Processor: replace the values of secret-looking keys (at any depth) and embedded JWTs with "[redacted]"."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if is_secret_key(key) else _redact(value)
    return event_dict


def add_request_context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Processor: request_id from the request context, trace_id and span_id (hex) from the current span."""
    event_dict.setdefault("request_id", current_request_id())
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    else:
        event_dict.setdefault("trace_id", None)
        event_dict.setdefault("span_id", None)
    return event_dict


def _service_adder(service: str) -> Processor:
    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def shared_processors(service: str, json: bool = True) -> list[Processor]:
    """The processors every line goes through, from structlog or from the stdlib."""
    # JSON lines render exceptions as data here, before redaction, and without frame locals (they hold secrets).
    exceptions: list[Processor] = (
        [structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))] if json else []
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _service_adder(service),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_request_context,
        *exceptions,
        redact_secrets,
    ]


def configure_logging(service: str, level: str = "INFO", json: bool = True, *, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging (uvicorn, aiokafka) to one JSON-lines handler on stdout; idempotent."""
    pre_chain = shared_processors(service)
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    finish: Processor = structlog.processors.dict_tracebacks if json else structlog.processors.format_exc_info
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, finish, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own handlers before loading the app; send its lines through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # RequestContextMiddleware writes the access line, with request id and duration.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

    # structlog's own lines (ours: the access line of every request among them) are rendered by the same processors
    # and written straight to the handler's stream, without a stdlib LogRecord and handler round per line (that
    # round was most of a line's cost); only the stdlib's own loggers go through the handler.
    structlog.configure(
        processors=[*pre_chain, finish, renderer],
        logger_factory=_NamedWriteLoggerFactory(handler.stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # Not cached: tests and reloads reconfigure, and module-level loggers must follow.
        cache_logger_on_first_use=False,
    )


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows the name it was asked for, which add_logger_name writes as `logger`."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self._file, str(args[0]) if args else "")
