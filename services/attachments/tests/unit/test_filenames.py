"""Filenames from clients are reduced to safe base names."""

from __future__ import annotations

import pytest

from attachments.domain.filenames import extension_of, sanitise_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override removed: no disguised extension
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("tab\tand\nnewline.log", "tab and newline.log"),
        ("ｆｕｌｌｗｉｄｔｈ．ｔｘｔ", "fullwidth.txt"),
        ("a\uff0fb.txt", "b.txt"),  # a fullwidth solidus is a separator after NFKC
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        ("...hidden", "hidden"),
        ('what<>:"|?*.txt', "what_______.txt"),
        ("\x00\x01\x1f", "attachment"),
    ],
)
def test_names_are_sanitised(raw: str | None, expected: str) -> None:
    assert sanitise_filename(raw) == expected


def test_long_names_keep_their_extension_within_255_bytes() -> None:
    name = sanitise_filename("é" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255


def test_extension_is_lower_case_and_absent_for_dotfiles() -> None:
    assert extension_of("Photo.PNG") == "png"
    assert extension_of("README") == ""
    assert extension_of("archive.tar.gz") == "gz"
