"""The embedded stack: one nats-server (unless NATS_URL points at one) and the four services as
child processes, each with its own SQLite file under the data folder. Ctrl-C stops it all, and a
second start reuses the same data.

The embedded nats-server requires authentication: the operator, each service, each unit of the
measures service's unit directory and each public-request channel get an nkey under
<data>/nats-auth (see natsauth.py).

What it says to the person running it (why it did not start, a process that died and comes back)
is in their language (`lang`); the services' own logs stay structured English.
"""

import asyncio
import os
import secrets
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
from fivetype import natsauth, ports
from fivetype.apiclient import ADMIN_TOKEN_FILE, stack_secret, write_private
from fivetype.lang import say
from fivetype.natsserver import NatsServer, PortTaken
from fivetype.state import CREDENTIALS, NATS_PORT, SERVICES
from services.measures.domain.catalogue import DEFAULT_UNITS_PATH, load_units
from services.runtime.auth import Role, issue
from services.runtime.settings import EXIT_PORT_TAKEN, METRICS_OFFSET, shared_auth_secret

ADMIN_TOKEN_TTL = timedelta(days=30)
MOVES = 3  # times a first start chooses another port when a stranger took the one chosen


# A process that dies is started again after a pause that doubles with each death soon after
# its start (a crash loop), from half a second to half a minute; one that ran a while restarts
# at once.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
STEADY_SECONDS = 60.0


def exited(name: str, log_file: Path, lang: str) -> str:
    return say(lang, f"{name} 已退出，详见 {log_file}", f"{name} exited; see {log_file}")


def not_ready(waiting: list["ServiceProcess"], timeout: float, lang: str) -> str:
    names = ", ".join(s.name for s in waiting)
    return say(
        lang, f"{timeout:.0f} 秒后仍未就绪：{names}", f"not ready after {timeout:.0f}s: {names}"
    )


@dataclass
class Backoff:
    restarts: int = 0
    failures: int = 0  # deaths in a row, each within STEADY_SECONDS of its start
    started_at: float = field(default_factory=time.monotonic)
    due: float | None = None  # when the dead process is to be started again

    def died(self, now: float) -> float:
        self.failures = self.failures + 1 if now - self.started_at < STEADY_SECONDS else 1
        delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (self.failures - 1))
        self.due = now + delay
        return delay

    def take_turn(self, now: float) -> bool:
        """Whether the dead process is due to start now (and, if so, counts the restart)."""
        if self.due is None or now < self.due:
            return False
        self.due, self.started_at = None, now
        self.restarts += 1
        return True


@dataclass
class ServiceProcess:
    name: str
    port: int
    metrics_port: int
    log_file: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    instance: str = ""  # the id this process answers /healthz with; new at every start

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self) -> None:
        prefix = f"FIVETYPE_{self.name.upper()}_"
        self.instance = f"{self.name}-{secrets.token_hex(6)}"
        self.env[f"{prefix}HTTP_PORT"] = str(self.port)
        self.env[f"{prefix}METRICS_PORT"] = str(self.metrics_port)
        self.env[f"{prefix}INSTANCE_ID"] = self.instance
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

    def port_taken(self) -> bool:
        """It exited because another process held its port when it bound."""
        return self.process is not None and self.process.poll() == EXIT_PORT_TAKEN

    def answering(self) -> str | None:
        """The instance id of the process answering on this service's port, if any answers."""
        try:
            answer = httpx.get(f"{self.url}/healthz", timeout=1)
            return str(answer.json().get("instance")) if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    def ready(self) -> bool:
        """This process (not another holding the port) answers and is ready."""
        if self.answering() != self.instance:
            return False
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


class Stack:
    def __init__(
        self,
        data_dir: Path,
        nats_url: str | None = None,
        nats_port: int = NATS_PORT,
        env: Mapping[str, str] | None = None,
        lang: str = "zh",
    ):
        """`env` is the services' environment (default: ours); its FIVETYPE_<SERVICE>_* values
        win over the stack's defaults except the NATS URL and data folder. A port the
        environment names is used as it is; the others are claimed (ports.py): the one this
        data folder used last, else the default, else any free one. `lang`: of what it says."""
        self.data_dir = data_dir.resolve()
        self.lang = lang
        self.env = dict(os.environ if env is None else env)
        self.admin_token_file = self.data_dir / ADMIN_TOKEN_FILE
        self.address_book = ports.AddressBook(self.data_dir)
        self.claims: dict[str, ports.Claim] = {}
        self.backoff: dict[str, Backoff] = {}
        self.nats: NatsServer | None = None
        self.credentials: Path | None = None
        if nats_url is None:
            self.credentials = self.data_dir / CREDENTIALS
            self.nats = NatsServer(
                self.data_dir / "nats",
                self._claim("nats", nats_port),
                self.data_dir / "logs" / "nats-server.log",
                config=self.credentials / natsauth.SERVER_CONF,
                name=f"fivetype-{secrets.token_hex(6)}",
                lang=lang,
            )
            nats_url = self.nats.url
        self.nats_url = nats_url
        self.services = [self._service(name, port) for name, port in SERVICES.items()]

    def _claim(self, name: str, default: int, taken: frozenset[int] = frozenset()) -> int:
        """Claim a port for `name` (releasing the one it held, if any)."""
        if (held := self.claims.pop(name, None)) is not None:
            held.release()
        self.claims[name] = ports.claim(self.address_book.get(name) or default, taken)
        return self.claims[name].port

    def _service(self, name: str, default_port: int) -> ServiceProcess:
        prefix = f"FIVETYPE_{name.upper()}_"
        port = int(self.env.get(f"{prefix}HTTP_PORT") or self._claim(name, default_port))
        metrics = self.env.get(f"{prefix}METRICS_PORT")
        metrics_port = int(metrics or self._claim(f"{name}-metrics", port + METRICS_OFFSET))
        env = {
            **self.env,
            f"{prefix}NATS_URL": self.nats_url,
            f"{prefix}DATA_DIR": str(self.data_dir),
            f"{prefix}LOG_FORMAT": self.env.get(f"{prefix}LOG_FORMAT", "console"),
        }
        if self.credentials is not None:
            env[f"{prefix}NATS_NKEY_FILE"] = str(natsauth.service_seed(self.credentials, name))
        return ServiceProcess(name, port, metrics_port, self.data_dir / "logs" / f"{name}.log", env)

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.services if s.name == name)

    @property
    def instances(self) -> dict[str, str]:
        """Who answers for each process: the services' instance ids, nats-server's name."""
        found = {s.name: s.instance for s in self.services}
        if self.nats is not None and self.nats.name is not None:
            found["nats"] = self.nats.name
        return found

    @property
    def restarts(self) -> dict[str, int]:
        return {name: backoff.restarts for name, backoff in self.backoff.items()}

    def start(self, timeout: float = 180.0) -> None:
        """Start everything, or stop what did start and raise. The ports it chose are written
        to the address book once every process holds its own."""
        try:
            self._provide_auth()
            if self.nats is not None:
                self.write_nats_config()
                self._start_nats()
                self.provision_streams()
            for service in self.services:
                service.start()
            self._wait_started(timeout)
        except BaseException:
            self.stop(grace=5)
            raise
        self.address_book.save({name: claim.port for name, claim in self.claims.items()})
        now = time.monotonic()
        self.backoff = {name: Backoff(started_at=now) for name in self.instances}

    def _start_nats(self) -> None:
        """Start nats-server; if another process took its port between the choice and the
        bind, choose another port (a few times)."""
        assert self.nats is not None
        taken: set[int] = set()
        while True:
            try:
                self.nats.start()
                return
            except PortTaken:
                self.nats.stop()
                if len(taken) >= MOVES:
                    raise
            taken.add(self.nats.port)
            self.nats.port = self._claim("nats", NATS_PORT, frozenset(taken))
            self.nats_url = self.nats.url
            for service in self.services:
                service.env[f"FIVETYPE_{service.name.upper()}_NATS_URL"] = self.nats_url

    def _wait_started(self, timeout: float) -> None:
        """Wait until every service answers as itself and is ready. A service that exited
        because another process took its port between the choice and the bind gets another
        port (unless the environment named it)."""
        deadline = time.monotonic() + timeout
        waiting = list(self.services)
        moves = 0
        while waiting:
            for service in waiting:
                if not service.exited():
                    continue
                fixed = service.name not in self.claims
                if fixed or not service.port_taken() or moves >= MOVES:
                    raise RuntimeError(exited(service.name, service.log_file, self.lang))
                moves += 1
                taken = frozenset({service.port})
                service.port = self._claim(service.name, SERVICES[service.name], taken)
                service.start()
            waiting = [s for s in waiting if not s.ready()]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(not_ready(waiting, timeout, self.lang))
            time.sleep(0.2)

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
    def wait_ready(services: list[ServiceProcess], timeout: float = 60.0, lang: str = "zh") -> None:
        deadline = time.monotonic() + timeout
        waiting = list(services)
        while waiting:
            for service in waiting:
                if service.exited():
                    raise RuntimeError(exited(service.name, service.log_file, lang))
            waiting = [s for s in waiting if not s.ready()]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(not_ready(waiting, timeout, lang))
            time.sleep(0.2)

    def supervise(self, stop: threading.Event) -> None:
        """Until `stop` is set, start again any process that died (nats-server included), on
        the same port, after its backoff; the state file follows (new instance ids, restarts).
        The services reconnect to a restarted nats-server by themselves."""
        while not stop.wait(0.25):
            if self._revive():
                from fivetype import state  # state imports this module

                state.write(self.data_dir, state.StackState.of(self))

    def _revive(self) -> bool:
        """One round of supervision; whether a process was started again."""
        revived = False
        now = time.monotonic()
        children: list[tuple[str, NatsServer | ServiceProcess, Path]] = [
            (s.name, s, s.log_file) for s in self.services
        ]
        if self.nats is not None:
            children.insert(0, ("nats", self.nats, self.nats.log_file))
        for name, child, log_file in children:
            backoff = self.backoff.setdefault(name, Backoff())
            if backoff.due is None and child.exited():
                delay = backoff.died(now)
                said = say(
                    self.lang,
                    f"{name} 已退出，{delay:.1f} 秒后重新启动（日志：{log_file}）",
                    f"{name} exited; starting it again in {delay:.1f} s (log: {log_file})",
                )
                print(said, flush=True)
            elif backoff.take_turn(now):
                try:
                    child.start()
                except (RuntimeError, TimeoutError) as exc:  # it died again: the next round sees
                    print(
                        say(self.lang, f"{name} 未能启动：{exc}", f"{name} did not start: {exc}"),
                        flush=True,
                    )
                revived = True
        return revived

    def stop(self, grace: float = 25.0) -> None:
        for service in self.services:
            service.terminate()
        for service in self.services:
            service.wait(grace)
        if self.nats is not None:
            self.nats.stop()
        for claim in self.claims.values():
            claim.release()
