"""A single-node Apache Kafka broker in KRaft mode (combined broker + controller), run with Java."""

from __future__ import annotations

import base64
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from stack.process import CACHE_DIR, LocalServer, StackError, port_open, read_pid, spawn, stop_process, wait_for

HERE = Path(__file__).resolve().parent
KAFKA_VERSION = "4.1.1"  # keep in step with kafka-pom.xml


def kafka_libs() -> Path:
    """The broker's jars, fetched once from Maven Central into the cache."""
    libs = CACHE_DIR / f"kafka-{KAFKA_VERSION}" / "libs"
    done = libs / ".complete"
    if done.exists():
        return libs
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise StackError("Kafka needs Java and Maven (mvn) on PATH to fetch and run the broker jars")
    tmp = libs.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    result = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(HERE / "kafka-pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"fetching the Kafka jars from Maven Central failed:\n{result.stdout[-3000:]}"
                         f"{result.stderr[-2000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    done.touch()
    return libs


@dataclass
class KafkaBroker(LocalServer):
    """A broker under ``root`` serving PLAINTEXT on 127.0.0.1:``port`` (controller on ``controller_port``).

    With ``tls_dir`` (``tls.crt``, an unencrypted PKCS#8 ``tls.key`` and ``ca.crt``, for the name
    localhost) it also serves TLS on ``tls_port`` and TLS with a required client certificate signed
    by ``ca.crt`` on ``mtls_port``."""

    root: Path
    port: int
    controller_port: int
    heap: str = "512m"
    tls_dir: Path | None = None
    tls_port: int = 0
    mtls_port: int = 0
    name = "kafka"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def tls_bootstrap(self) -> str:
        return f"localhost:{self.tls_port}"  # the name in the broker's certificate

    @property
    def mtls_bootstrap(self) -> str:
        return f"localhost:{self.mtls_port}"

    @property
    def data_dir(self) -> Path:
        return self.root / "kafka-data"

    @property
    def config_file(self) -> Path:
        return self.root / "server.properties"

    def start(self, timeout_s: float = 90.0) -> KafkaBroker:
        if self.running():
            return self
        for port in (self.port, self.controller_port, *((self.tls_port, self.mtls_port) if self.tls_dir else ())):
            if port_open(port):
                raise StackError(f"port {port} is already in use; choose another for Kafka")
        libs = kafka_libs()
        self.root.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self._properties())
        classpath = f"{libs}/*"
        if not (self.data_dir / "meta.properties").exists():
            cluster_id = _base64_uuid(uuid.uuid4())
            result = subprocess.run(
                # "--cluster-id=": an id may start with "-" (url-safe base64), which argparse would
                # take for an option (1 start in 64 failed with "expected one argument")
                ["java", "-cp", classpath, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                 "-c", str(self.config_file)], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise StackError(f"formatting the Kafka log directory failed:\n{result.stdout}{result.stderr}")
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        spawn(["java", f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC",
               f"-Dlog4j2.configurationFile={HERE / 'log4j2.yaml'}", "-cp", classpath,
               "kafka.Kafka", str(self.config_file)], self.log, self.pid_file)
        wait_for(self._ready, timeout_s, "Kafka", self.log)
        return self

    def stop(self, timeout_s: float = 60.0) -> None:
        """Controlled shutdown (SIGTERM); the log directory is kept so a restart resumes it."""
        stop_process(self.pid_file, timeout_s=timeout_s)

    def kill(self) -> None:
        stop_process(self.pid_file, sig=signal.SIGKILL)

    def _ready(self) -> bool:
        if read_pid(self.pid_file) is None:
            raise StackError(f"Kafka exited; see {self.log}:\n{self.log.read_text(errors='replace')[-3000:]}")
        with open(self.log, "rb") as handle:
            handle.seek(getattr(self, "_log_offset", 0))
            started = b"Kafka Server started" in handle.read()
        return started and port_open(self.port)

    def _tls_properties(self) -> tuple[str, str, str, list[str]]:
        """(extra listeners, extra advertised listeners, extra protocol map, SSL settings)."""
        if self.tls_dir is None:
            return "", "", "", []
        keystore = self.root / "keystore.pem"  # Kafka's PEM key store: the key, then the certificate chain
        keystore.write_text((self.tls_dir / "tls.key").read_text() + (self.tls_dir / "tls.crt").read_text())
        keystore.chmod(0o600)
        return (f",SSL://127.0.0.1:{self.tls_port},MTLS://127.0.0.1:{self.mtls_port}",
                f",SSL://localhost:{self.tls_port},MTLS://localhost:{self.mtls_port}",
                ",SSL:SSL,MTLS:SSL",
                ["ssl.keystore.type=PEM", f"ssl.keystore.location={keystore}",
                 "ssl.truststore.type=PEM", f"ssl.truststore.location={self.tls_dir / 'ca.crt'}",
                 "listener.name.mtls.ssl.client.auth=required"])

    def _properties(self) -> str:
        listeners, advertised, protocols, ssl = self._tls_properties()
        return "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}{listeners}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}{advertised}",
            "controller.listener.names=CONTROLLER",
            f"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT{protocols}",
            *ssl,
            f"log.dirs={self.data_dir}",
            # one node: internal topics cannot be replicated
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            # topics are created by `recsys events topics`, never by a typo in a client
            "auto.create.topics.enable=false",
            "group.initial.rebalance.delay.ms=0",
            "num.partitions=1",
            "",
        ])


def _base64_uuid(value: uuid.UUID) -> str:
    """Kafka's cluster id format (what `kafka-storage random-uuid` prints)."""
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")
