"""Uploads over HTTP on a real database and filesystem storage: limits, sniffing, names, nothing half-stored."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from attachments_builders import (
    BOUNDARY,
    CONTENT_TYPE,
    ELF,
    HTML,
    LOG,
    PDF,
    SVG,
    file_part,
    multipart,
    part,
    png_bytes,
)
from attachments_harness import Service

from casefold_events import receipts

pytestmark = pytest.mark.integration

ALICE = uuid.uuid4()


def blobs_in(service: Service) -> list[Path]:
    return sorted(p for p in (Path(service.settings.storage_dir) / "blobs").rglob("*") if p.is_file())


def temporaries_in(service: Service) -> list[Path]:
    return list((Path(service.settings.storage_dir) / "tmp").iterdir())


async def post(service: Service, body: bytes, user: uuid.UUID = ALICE, content_type: str = CONTENT_TYPE) -> object:
    return await service.client.post(
        "/api/attachments", content=body, headers={**service.auth(user), "Content-Type": content_type}
    )


async def rows(service: Service) -> int:
    async with service.pool.acquire() as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM attachments")
        return count


async def test_upload_of_several_files_returns_each_with_a_verifiable_receipt(service: Service) -> None:
    png, log = png_bytes(), LOG
    response = await service.client.post(
        "/api/attachments",
        content=multipart([file_part(png, "screen.png", "image/png"), file_part(log, "server.log", "text/plain")]),
        headers={**service.auth(ALICE), "Content-Type": CONTENT_TYPE},
    )
    assert response.status_code == 201, response.text
    first, second = response.json()
    assert first["filename"] == "screen.png"
    assert first["content_type"] == "image/png"
    assert first["size"] == len(png)
    assert first["sha256"] == hashlib.sha256(png).hexdigest()
    assert second["content_type"] == "text/plain"
    receipt = receipts.verify(service.settings.receipt_key_bytes, first["reference"])
    assert receipt.uploaded_by == ALICE
    assert str(receipt.attachment.attachment_id) == first["id"]
    assert receipt.attachment.sha256 == first["sha256"]
    assert not temporaries_in(service)


async def test_identical_bytes_share_one_blob(service: Service) -> None:
    pdf = PDF + uuid.uuid4().bytes.hex().encode()
    before = len(blobs_in(service))
    for _ in range(2):
        response = await post(service, multipart([file_part(pdf, "same.pdf")]))
        assert response.status_code == 201  # type: ignore[attr-defined]
    assert len(blobs_in(service)) == before + 1


async def test_a_file_over_the_limit_is_413_and_nothing_is_stored(service: Service) -> None:
    before_blobs, before_rows = blobs_in(service), await rows(service)
    big = png_bytes(extra=service.settings.max_file_bytes)
    response = await post(service, multipart([file_part(png_bytes(), "ok.png"), file_part(big, "big.png")]))
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "big.png" in response.json()["detail"]  # type: ignore[attr-defined]
    assert blobs_in(service) == before_blobs
    assert await rows(service) == before_rows
    assert not temporaries_in(service)


async def test_more_files_than_allowed_in_one_request_is_413(service: Service) -> None:
    parts = [file_part(png_bytes(extra=i + 1), f"{i}.png") for i in range(4)]
    response = await post(service, multipart(parts))
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert not temporaries_in(service)


@pytest.mark.parametrize(
    ("content", "filename", "declared", "fragment"),
    [
        (ELF, "holiday.png", "image/png", "Executables"),
        (png_bytes(), "setup.exe", "application/octet-stream", ".exe"),
        (HTML, "page.txt", "text/plain", "HTML"),
        (SVG, "logo.svg", "image/svg+xml", ".svg"),
        (png_bytes(), "shot.png", "application/pdf", "declared as application/pdf"),
        (LOG * 10 + b"\x00\x01binary tail", "server.log", "text/plain", "UTF-8"),
    ],
)
async def test_refused_types_are_415_listing_allowed_types(
    service: Service, content: bytes, filename: str, declared: str, fragment: str
) -> None:
    before = await rows(service)
    response = await post(service, multipart([file_part(content, filename, declared)]))
    assert response.status_code == 415, response.text  # type: ignore[attr-defined]
    problem = response.json()  # type: ignore[attr-defined]
    assert fragment in problem["detail"]
    assert "image/png" in problem["allowed_types"]
    assert "application/pdf" in problem["detail"]
    assert await rows(service) == before
    assert not temporaries_in(service)


async def test_a_good_file_beside_a_refused_one_is_not_stored_either(service: Service) -> None:
    before_blobs, before_rows = blobs_in(service), await rows(service)
    unique_png = png_bytes(extra=777)
    response = await post(service, multipart([file_part(unique_png, "good.png"), file_part(ELF, "bad.png")]))
    assert response.status_code == 415  # type: ignore[attr-defined]
    assert blobs_in(service) == before_blobs
    assert await rows(service) == before_rows


async def test_path_names_are_reduced_to_a_base_name(service: Service) -> None:
    response = await post(service, multipart([file_part(LOG, "../../etc/passwd", "text/plain")]))
    assert response.status_code == 201  # type: ignore[attr-defined]
    assert response.json()[0]["filename"] == "passwd"  # type: ignore[attr-defined]
    assert not (Path(service.settings.storage_dir).parent / "etc").exists()


async def test_an_empty_file_is_422(service: Service) -> None:
    response = await post(service, multipart([file_part(b"", "empty.txt")]))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "empty" in response.json()["detail"]  # type: ignore[attr-defined]


async def test_no_file_is_422(service: Service) -> None:
    response = await post(service, multipart([]))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "No file" in response.json()["detail"]  # type: ignore[attr-defined]


async def test_a_truncated_body_is_400_and_nothing_is_stored(service: Service) -> None:
    before = await rows(service)
    body = multipart([file_part(png_bytes(extra=5000), "cut.png")])[:-200]
    response = await post(service, body)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "truncated" in response.json()["detail"]  # type: ignore[attr-defined]
    assert await rows(service) == before
    assert not temporaries_in(service)


async def test_huge_part_headers_are_refused(service: Service) -> None:
    huge = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
    huge += "X-Padding: " + "a" * 20_000 + "\r\n\r\n"
    response = await post(service, huge.encode() + png_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode())
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "header" in response.json()["detail"]  # type: ignore[attr-defined]


async def test_many_part_headers_adding_up_are_refused(service: Service) -> None:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
    head += "".join(f"X-{i}: " + "a" * 4000 + "\r\n" for i in range(6)) + "\r\n"
    response = await post(service, head.encode() + png_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode())
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "headers exceed" in response.json()["detail"]  # type: ignore[attr-defined]


async def test_not_multipart_is_415(service: Service) -> None:
    response = await post(service, b'{"file": "x"}', content_type="application/json")
    assert response.status_code == 415  # type: ignore[attr-defined]


async def test_garbage_body_is_400(service: Service) -> None:
    response = await post(service, b"this is not multipart at all" * 10)
    assert response.status_code == 400  # type: ignore[attr-defined]


async def test_unknown_form_fields_are_422(service: Service) -> None:
    response = await post(service, multipart([part("comment", b"hi"), file_part(PDF, "a.pdf")]))
    assert response.status_code == 422  # type: ignore[attr-defined]


async def test_upload_needs_a_token(service: Service) -> None:
    response = await service.client.post(
        "/api/attachments", content=multipart([file_part(PDF, "a.pdf")]), headers={"Content-Type": CONTENT_TYPE}
    )
    assert response.status_code == 401
