"""A real single-node Apache Kafka broker (KRaft, broker and controller in one JVM) from Maven Central jars."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from casefold_local.errors import InfraError
from casefold_local.procs import ensure_port_free, port_open, read_pid, tail, terminate, wait_until

KAFKA_VERSION = "4.3.1"  # keep in step with deploy/local/kafka/pom.xml
POM = Path(__file__).resolve().parents[2] / "kafka" / "pom.xml"
DEFAULT_PORT = 59092
MAIN_CLASS = "kafka.Kafka"

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = {level}
logger.state.name = state.change.logger
logger.state.level = warn
"""


def jar_cache() -> Path:
    """Where the broker's jars are kept between runs and clones: $CASEFOLD_CACHE_DIR or ~/.cache/casefold."""
    base = os.environ.get("CASEFOLD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "casefold"
    )
    return Path(base) / f"kafka-{KAFKA_VERSION}"


def ensure_jars(timeout: float = 600) -> Path:
    """Fetch the broker's jars once (Maven, cached in ~/.m2 too) and return the folder holding them."""
    libs = jar_cache() / "libs"
    if (libs / ".complete").exists():
        return libs
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise InfraError(f"kafka: `{tool}` is not on PATH; install OpenJDK 17+ and Maven (apt-get install {tool})")
    staging = libs.with_name(f"libs.{uuid.uuid4().hex[:8]}")
    cmd = [
        "mvn", "-B", "-q", "-f", str(POM),
        "-Daether.connector.connectTimeout=20000", "-Daether.connector.requestTimeout=60000",
        "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        last = (exc.stdout or b"").decode(errors="replace").strip().splitlines()[-2:]
        raise InfraError(f"kafka: fetching the broker jars from Maven Central failed ({' | '.join(last)})") from exc
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InfraError(
            f"kafka: Maven Central did not answer within {timeout:.0f}s; is the registry reachable?"
        ) from exc
    (staging / ".complete").touch()
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    return libs


def new_cluster_id(random_bytes: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A KRaft cluster id: 16 random bytes, base64url without padding, never starting with "-".

    (One id in 64 would start with "-", and `kafka-storage format -t -abc...` then fails: "expected one argument".
    Kafka's own generator skips those ids too.)
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(random_bytes()).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaServer:
    """One broker: config, data and logs in state_dir; listener on 127.0.0.1:port, controller on port + 1."""

    state_dir: Path
    port: int = DEFAULT_PORT
    controller_port: int | None = None
    heap: str = "512m"
    log_level: str = "INFO"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _controller_port(self) -> int:
        return self.controller_port or self.port + 1

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "server.log"

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    def pid(self) -> int | None:
        return read_pid(self._pid_file, str(self.state_dir / "server.properties"))

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.port)

    def _write_config(self) -> Path:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self._controller_port}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self._controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "share.coordinator.state.topic.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.cleaner.dedupe.buffer.size": "16777216",
        }
        path = self.state_dir / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (self.state_dir / "log4j2.properties").write_text(LOG4J2.format(log=self.log_file, level=self.log_level))
        return path

    def _cluster_id(self) -> str:
        path = self.state_dir / "cluster-id"
        if not path.exists():
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    def _java(self, libs: Path, main: str, *args: str) -> list[str]:
        return [
            "java", "-Xms256m", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_file.parent}",
            f"-Dlog4j2.configurationFile={self.state_dir / 'log4j2.properties'}",
            "-cp", f"{libs}/*", main, *args,
        ]  # fmt: skip

    def start(self, timeout: float = 120) -> None:
        """Fetch jars if needed, format storage on first use, start the broker and wait for its listener."""
        if self.running():
            return
        libs = ensure_jars()
        ensure_port_free(self.port, "kafka", "CASEFOLD_KAFKA_PORT")
        ensure_port_free(self._controller_port, "kafka controller", "CASEFOLD_KAFKA_PORT")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            # --cluster-id=ID, not "-t ID": an id written before ids stopped starting with "-" would read as an option.
            fmt = self._java(libs, "kafka.tools.StorageTool", "format", f"--cluster-id={self._cluster_id()}", "-c",
                             str(config))  # fmt: skip
            try:
                subprocess.run(fmt, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                output = (exc.stdout or b"").decode(errors="replace").strip().splitlines()[-15:]
                raise InfraError(
                    f"kafka: formatting storage in {self.data_dir} failed; wipe that folder and retry\n"
                    + "\n".join(output)
                ) from exc
        with open(self.state_dir / "logs" / "stdout.log", "ab") as out:
            proc = subprocess.Popen(
                self._java(libs, MAIN_CLASS, str(config)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._pid_file.write_text(str(proc.pid))

        def ready() -> bool:
            if proc.poll() is not None:
                raise InfraError(f"kafka exited with code {proc.returncode} while starting:\n{tail(self.log_file)}")
            return port_open(self.port)

        try:
            wait_until(ready, timeout, "kafka", self.log_file)
        except InfraError:
            terminate(proc.pid, 10)
            raise

    def stop(self, timeout: float = 60) -> None:
        """Controlled shutdown (SIGTERM), killed after timeout seconds; a no-op when it is not running."""
        pid = self.pid()
        if pid is not None:
            terminate(pid, timeout)
        self._pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """Crash the broker (SIGKILL), as a power cut would; for failure tests."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                proc.kill()
                proc.wait(10)
        self._pid_file.unlink(missing_ok=True)

    def describe(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"kafka     stopped (data {self.data_dir})"
        return f"kafka     running  {self.bootstrap}  pid {pid}  log {self.log_file}"
