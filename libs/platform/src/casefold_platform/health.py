"""The worker's liveness endpoint: GET /livez on its own port, answered from the worker's event loop.

It is served by the event loop itself (not a thread, as /metrics is), so an answer proves the loop turns; it is 503
when a background loop died or is stuck (casefold_events.loops.health), so Kubernetes restarts the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from casefold_events.loops import health

READ_TIMEOUT_SECONDS = 5.0


def liveness() -> tuple[int, str, dict[str, str]]:
    """The status code, status word and per-loop details of a liveness answer for this process's loops."""
    loops = health()
    ok = all(item.alive for item in loops)
    return (200 if ok else 503), ("ok" if ok else "failing"), {item.name: item.detail for item in loops}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            request_line = await reader.readline()
            while (await reader.readline()).strip():  # the headers: nothing in them matters here
                pass
        parts = request_line.decode("latin-1").split()
        if len(parts) >= 2 and parts[0] in ("GET", "HEAD") and parts[1].split("?")[0] == "/livez":
            status, word, loops = liveness()
            body: dict[str, object] = {"status": word, "loops": loops}
        else:
            status, body = 404, {"status": "not found", "paths": ["/livez"]}
        payload = json.dumps(body).encode()
        reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + (payload if parts[0] != "HEAD" else b"")
        )
        await writer.drain()
    except (TimeoutError, OSError, IndexError, UnicodeDecodeError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def serve_liveness(port: int, host: str = "0.0.0.0") -> asyncio.Server:  # noqa: S104 - the kubelet probes it
    """Start answering GET /livez on host:port; close the returned server to stop."""
    return await asyncio.start_server(_answer, host, port)
