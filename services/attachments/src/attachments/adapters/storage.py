"""The one interface every blob store implements: staged writes committed under their sha256, ranged reads.

Blobs are content-addressed: two uploads of the same bytes share one blob, so a blob is deleted only when no
attachment row references it any more (the caller's job, under a lock on the key).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol

READ_CHUNK_BYTES = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobMissing(LookupError):
    """A blob its attachment row points at is not in the store (a lost volume, an object deleted by hand)."""


class BlobWriter(Protocol):
    """A blob being written to a temporary place; invisible until committed."""

    async def write(self, chunk: bytes) -> None: ...

    async def finish(self) -> None:
        """Every byte has been written: flush buffers so that memory is released (the blob stays staged)."""
        ...

    async def commit(self, sha256: str) -> str:
        """Make the bytes durable under their content address; returns the storage key."""
        ...

    async def abort(self) -> None:
        """Forget the bytes written so far (no-op after commit or a previous abort)."""
        ...


class Storage(Protocol):
    """A blob store: filesystem or S3-compatible."""

    def key_for(self, sha256: str) -> str:
        """The storage key of the blob with this digest."""
        ...

    async def open_writer(self) -> BlobWriter: ...

    def open_reader(self, key: str, byte_range: tuple[int, int] | None = None) -> AsyncIterator[bytes]:
        """The blob's bytes (only first..last inclusive when a range is given), in chunks; BlobMissing if it is gone."""
        ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def stale_temporaries(self, older_than_seconds: float) -> int:
        """Remove temporaries (staged files, objects, unfinished multipart uploads) older than this; how many."""
        ...


def check_sha256(sha256: str) -> str:
    """The digest, if it is a lower-case hex sha256 (keys are built from it, so nothing else may pass)."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a sha256 hex digest")
    return sha256
