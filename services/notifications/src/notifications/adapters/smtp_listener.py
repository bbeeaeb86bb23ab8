"""The inbound SMTP listener: aiosmtpd's protocol served on the service's own event loop (so handlers use its pool)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.smtp import SMTP


class SmtpListener:
    def __init__(self, handler: Any, host: str, port: int, *, max_bytes: int, hostname: str) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_bytes = max_bytes
        self.hostname = hostname
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self.handler, data_size_limit=self.max_bytes, hostname=self.hostname, ident="Casefold"),
            host=self.host, port=self.port,
        )  # fmt: skip

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
