"""Types are decided by content; executables and active content are refused; contradictions are refused."""

from __future__ import annotations

import pytest
from attachments_builders import ELF, HTML, LOG, PDF, PE, SHELL_SCRIPT, SVG, png_bytes

from attachments.domain.sniffing import ALLOWED_TYPES, NotAllowed, TextCheck, classify


def kind_of(head: bytes, ext: str = "", declared: str = "") -> str:
    return classify(head, complete=True, filename_extension=ext, declared=declared).content_type


@pytest.mark.parametrize(
    ("content", "ext", "expected"),
    [
        (png_bytes(), "png", "image/png"),
        (PDF, "pdf", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpg", "image/jpeg"),
        (b"GIF89a\x01\x00", "gif", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp", "image/webp"),
        (b"PK\x03\x04\x14\x00", "zip", "application/zip"),
        (b"PK\x03\x04\x14\x00", "docx", "application/zip"),
        (b"\x1f\x8b\x08\x00", "gz", "application/gzip"),
        (LOG, "log", "text/plain"),
        (b"a,b\n1,2\n", "csv", "text/csv"),
        (b'{"a": 1}', "json", "application/json"),
        (LOG, "", "text/plain"),
    ],
)
def test_allowed_content_is_recognised(content: bytes, ext: str, expected: str) -> None:
    assert kind_of(content, ext) == expected


@pytest.mark.parametrize("content", [ELF, PE, SHELL_SCRIPT, b"\xcf\xfa\xed\xfe\x07\x00", b"\x00asm\x01\x00"])
def test_executables_are_refused_whatever_their_name(content: bytes) -> None:
    with pytest.raises(NotAllowed, match="Executables"):
        kind_of(content, "png", "image/png")


@pytest.mark.parametrize("content", [HTML, SVG, b"  <html><body>hi</body></html>", b"notes <script>x()</script>"])
def test_html_and_svg_are_refused_as_active_content(content: bytes) -> None:
    with pytest.raises(NotAllowed):
        kind_of(content, "txt")


def test_a_png_named_exe_is_refused() -> None:
    with pytest.raises(NotAllowed, match=r"\.exe"):
        kind_of(png_bytes(), "exe")


def test_a_png_named_pdf_is_refused() -> None:
    with pytest.raises(NotAllowed, match=r"named \.pdf but its content is image/png"):
        kind_of(png_bytes(), "pdf")


def test_text_named_png_is_refused() -> None:
    with pytest.raises(NotAllowed, match="content is text"):
        kind_of(LOG, "png")


def test_a_declared_type_contradicting_the_content_is_refused_listing_allowed_types() -> None:
    with pytest.raises(NotAllowed) as refused:
        kind_of(png_bytes(), "png", "application/pdf")
    assert "declared as application/pdf" in str(refused.value)
    assert all(t in str(refused.value) for t in ALLOWED_TYPES)


def test_declared_aliases_and_octet_stream_are_accepted() -> None:
    assert kind_of(b"\xff\xd8\xff\xe0", "jpg", "image/jpg") == "image/jpeg"
    assert kind_of(PDF, "pdf", "application/octet-stream") == "application/pdf"
    assert kind_of(b"PK\x03\x04", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_binary_garbage_is_refused() -> None:
    with pytest.raises(NotAllowed, match="not accepted"):
        kind_of(bytes(range(256)) * 4, "dat")


def test_text_check_accepts_utf8_split_across_chunks_and_refuses_nul_later() -> None:
    data = "héllo wörld\n".encode() * 1000
    check = TextCheck()
    for i in range(0, len(data), 7):
        check.feed(data[i : i + 7])
    check.feed(b"", final=True)
    assert check.ok
    check.feed(b"\x00")
    assert not check.ok


def test_a_head_cut_inside_a_utf8_character_still_reads_as_text() -> None:
    head = ("x" * 10 + "é").encode()[:-1]
    assert classify(head, complete=False, filename_extension="txt", declared="").content_type == "text/plain"
