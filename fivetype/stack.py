"""The embedded stack: one nats-server (unless NATS_URL points at one) and the four services as
child processes, each with its own SQLite file under the data folder. Ctrl-C stops it all, and a
second start reuses the same data.

The embedded nats-server requires authentication: the operator, each service, each unit of the
measures service's unit directory and each public-request channel get an nkey under
<data>/nats-auth (see natsauth.py).
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from contracts.inspections import PublicChannel
from fivetype import natsauth
from fivetype.apiclient import ADMIN_TOKEN_FILE, stack_secret, write_private
from fivetype.natsserver import NatsServer, free_port, port_is_free
from fivetype.state import CREDENTIALS, NATS_PORT, SERVICES
from services.measures.domain.catalogue import DEFAULT_UNITS_PATH, load_units
from services.runtime.auth import Role, issue
from services.runtime.settings import shared_auth_secret

ADMIN_TOKEN_TTL = timedelta(days=30)


@dataclass
class ServiceProcess:
    name: str
    port: int
    metrics_port: int
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _choose_port(preferred: int) -> int:
    return preferred if port_is_free(preferred) else free_port()


class Stack:
    def __init__(
        self,
        data_dir: Path,
        nats_url: str | None = None,
        nats_port: int = NATS_PORT,
        env: Mapping[str, str] | None = None,
    ):
        """`env` is the services' environment (default: ours); its FIVETYPE_<SERVICE>_* values
        win over the stack's defaults except the NATS URL and data folder."""
        self.data_dir = data_dir.resolve()
        self.env = dict(os.environ if env is None else env)
        self.admin_token_file = self.data_dir / ADMIN_TOKEN_FILE
        self.nats: NatsServer | None = None
        self.credentials: Path | None = None
        if nats_url is None:
            self.credentials = self.data_dir / CREDENTIALS
            self.nats = NatsServer(
                self.data_dir / "nats",
                _choose_port(nats_port),
                self.data_dir / "logs" / "nats-server.log",
                config=self.credentials / natsauth.SERVER_CONF,
            )
            nats_url = self.nats.url
        self.nats_url = nats_url
        self.services = [self._service(name, port) for name, port in SERVICES.items()]

    def _service(self, name: str, default_port: int) -> ServiceProcess:
        prefix = f"FIVETYPE_{name.upper()}_"
        port = int(self.env.get(f"{prefix}HTTP_PORT") or _choose_port(default_port))
        metrics_port = int(self.env.get(f"{prefix}METRICS_PORT") or _choose_port(port + 1000))
        env = {
            **self.env,
            f"{prefix}NATS_URL": self.nats_url,
            f"{prefix}DATA_DIR": str(self.data_dir),
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}METRICS_PORT": str(metrics_port),
            f"{prefix}LOG_FORMAT": self.env.get(f"{prefix}LOG_FORMAT", "console"),
        }
        if self.credentials is not None:
            env[f"{prefix}NATS_NKEY_FILE"] = str(natsauth.service_seed(self.credentials, name))
        return ServiceProcess(name, port, metrics_port, self.data_dir / "logs" / f"{name}.log", env)

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.services if s.name == name)

    def start(self, timeout: float = 60.0) -> None:
        """Start everything, or stop what did start and raise."""
        try:
            self._provide_auth()
            if self.nats is not None:
                self.write_nats_config()
                self.nats.start()
                self.provision_streams()
            for service in self.services:
                service.start()
            self.wait_ready(self.services, timeout)
        except BaseException:
            self.stop(grace=5)
            raise

    def write_nats_config(self) -> None:
        """Credentials for the operator, the services, every unit the measures service will load
        and every channel; existing ones are kept, so clients keep working across restarts."""
        assert self.credentials is not None
        units_file = self.env.get("FIVETYPE_MEASURES_UNITS_PATH") or DEFAULT_UNITS_PATH
        units = [unit.code for unit in load_units(units_file).units]
        natsauth.write_server_config(self.credentials, units, [c.value for c in PublicChannel])

    def provision_streams(self) -> None:
        """Create or update the streams as the operator: the services may not change them."""
        from fivetype.commands._nats import connect  # not at module top: `fivetype --help`
        from services.runtime.bus import provision_streams

        assert self.credentials is not None
        seed = natsauth.operator_seed(self.credentials)

        async def provision() -> None:
            nc = await connect(self.nats_url, seed)
            try:
                await provision_streams(nc.jetstream(), 1)
            finally:
                await nc.close()

        asyncio.run(provision())

    def _provide_auth(self) -> None:
        """The services' token secret: the one the environment gives, else one generated in
        the data folder on first start (mode 0600) and kept for later starts; and an office
        admin token for the operator, renewed at every start."""
        secret = shared_auth_secret(self.env)
        if secret is None:
            secret_file = stack_secret(self.data_dir)
            secret = secret_file.read_text().strip()
            for service in self.services:
                service.env["FIVETYPE_AUTH_SECRET_FILE"] = str(secret_file)
        token = issue(
            secret, subject="office-admin", role=Role.OFFICE_ADMIN, unit=None, ttl=ADMIN_TOKEN_TTL
        )
        write_private(self.admin_token_file, token + "\n")

    @staticmethod
    def wait_ready(services: list[ServiceProcess], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            for service in waiting:
                if service.exited():
                    raise RuntimeError(f"{service.name} exited; see {service.log_file}")
            waiting = [s for s in waiting if not s.ready()]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.2)

    def supervise(self, stop: threading.Event) -> None:
        """Restart a service that dies, at most five times a minute, until `stop` is set."""
        while not stop.wait(1.0):
            for service in self.services:
                if not service.exited():
                    continue
                now = time.monotonic()
                service.restarts = [t for t in service.restarts if now - t < 60] + [now]
                if len(service.restarts) > 5:
                    raise RuntimeError(f"{service.name} keeps exiting; see {service.log_file}")
                print(f"{service.name} exited; restarting (log: {service.log_file})", flush=True)
                service.start()

    def stop(self, grace: float = 25.0) -> None:
        for service in self.services:
            service.terminate()
        for service in self.services:
            service.wait(grace)
        if self.nats is not None:
            self.nats.stop()
