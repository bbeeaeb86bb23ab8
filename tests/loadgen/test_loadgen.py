"""The whole-system benchmark's Go load generator: it builds, keeps its rate, and bench/system_bench.py reads it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# bench/ is not an installed package: `python -m bench` runs from the repository root, which this puts on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.system_bench import build_loadgen, parse_opened, parse_report


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer t-1":
            self._answer(401, {})
        else:
            self._answer(500 if self.path == "/broken" else 200, {"items": []})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        keyed = bool(self.headers.get("Idempotency-Key"))
        self._answer(201 if keyed and body == {"subject": "s"} else 400, {"id": "c-1", "number": "00000007"})

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_load_generator_starts_requests_at_the_rate_and_reports_each_kind(server: str, tmp_path: Path) -> None:
    plan = {
        "base": server,
        "kinds": [
            {"name": "open", "method": "POST", "weight": 1, "record": True,
             "targets": [{"path": "/cases", "token": "t-1", "body": json.dumps({"subject": "s"})}]},
            {"name": "list", "method": "GET", "weight": 1, "targets": [{"path": "/cases", "token": "t-1"}]},
            {"name": "broken", "method": "GET", "weight": 1, "targets": [{"path": "/broken", "token": "t-1"}]},
        ],
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    opened = tmp_path / "opened.tsv"
    command = [str(build_loadgen()), "-config", str(tmp_path / "plan.json"), "-rate", "60", "-duration", "1s",
               "-opened", str(opened)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)

    step = parse_report(done.stdout)
    assert step.all.count == 60
    assert sum(k.count for k in step.kinds.values()) == 60
    assert step.kinds["open"].status == {"201": step.kinds["open"].count}
    assert step.kinds["list"].errors == 0
    assert step.kinds["broken"].errors == step.kinds["broken"].count > 0
    assert step.all.errors == step.kinds["broken"].count
    assert 0 < step.all.p50_ms <= step.all.p99_ms <= step.all.max_ms
    rows = parse_opened(opened.read_text())
    assert len(rows) == step.kinds["open"].count
    assert {(case_id, number) for case_id, number, _ in rows} == {("c-1", 7)}


def test_a_report_without_a_json_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no report"):
        parse_report("loadgen: connection refused\n")
