"""Blobs as files under one folder, content-addressed: blobs/ab/cd/<sha256>, written to tmp/ then renamed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from attachments.adapters.storage import READ_CHUNK_BYTES, BlobMissing, check_sha256

_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")
_FLUSH_BYTES = 1024 * 1024


class FilesystemWriter:
    """Writes to a temporary file in the same filesystem, so that commit is one atomic rename."""

    def __init__(self, storage: FilesystemStorage, handle: BinaryIO, path: Path) -> None:
        self._storage = storage
        self._handle = handle
        self._path = path
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._done = False

    async def write(self, chunk: bytes) -> None:
        # Chunks are gathered and written by a thread about a megabyte at a time: one hop per MB, no extra copy.
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes >= _FLUSH_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending:
            chunks, self._pending, self._pending_bytes = self._pending, [], 0
            await asyncio.to_thread(self._handle.writelines, chunks)

    async def finish(self) -> None:
        await self._flush()

    async def commit(self, sha256: str) -> str:
        key = self._storage.key_for(check_sha256(sha256))
        await self._flush()
        await asyncio.to_thread(self._finish, self._storage.path_of(key))
        self._done = True
        return key

    def _finish(self, final: Path) -> None:
        self._handle.flush()
        if self._storage.fsync:
            os.fsync(self._handle.fileno())
        self._handle.close()
        if final.exists():
            # The same bytes are already stored (content-addressed): keep the existing file.
            self._path.unlink(missing_ok=True)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, final)
        if self._storage.fsync:
            dir_fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    async def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._pending, self._pending_bytes = [], 0
        await asyncio.to_thread(self._discard)

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        self._path.unlink(missing_ok=True)


class FilesystemStorage:
    """The default backend (ATTACHMENTS_STORAGE_DIR)."""

    def __init__(self, root: str | Path, *, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.fsync = fsync
        self._tmp = self.root / "tmp"
        self._blobs = self.root / "blobs"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_of(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError("not a storage key of this backend")
        return self._blobs / key

    async def open_writer(self) -> FilesystemWriter:
        path = self._tmp / f"{uuid.uuid4().hex}.part"
        handle = await asyncio.to_thread(open, path, "xb")
        return FilesystemWriter(self, handle, path)

    async def open_reader(self, key: str, byte_range: tuple[int, int] | None = None) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise BlobMissing(key) from None
        try:
            first, last = byte_range if byte_range is not None else (0, None)
            if first:
                await asyncio.to_thread(handle.seek, first)
            remaining = None if last is None else last - first + 1
            while remaining is None or remaining > 0:
                size = READ_CHUNK_BYTES if remaining is None else min(READ_CHUNK_BYTES, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    async def stale_temporaries(self, older_than_seconds: float) -> int:
        """Remove temporary files a crashed process left behind; returns how many."""
        return await asyncio.to_thread(self._sweep_tmp, older_than_seconds)

    def _sweep_tmp(self, older_than_seconds: float) -> int:
        removed = 0
        limit = time.time() - older_than_seconds
        for path in self._tmp.glob("*.part"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
        return removed
