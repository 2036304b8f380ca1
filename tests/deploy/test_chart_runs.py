"""The chart matches the application: the rendered migration jobs and Deployments, run as local
processes with exactly the command and environment a kubelet would give them (only the cluster
hostnames replaced by loopback ones), migrate PostgreSQL, become ready on the probes' paths,
pass the `helm test` pod's check and stop cleanly within their termination grace period. And
the bundled NATS configuration, run by nats-server, admits the services' nkeys and no one else."""

import asyncio
import functools
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import nats
import pytest
from nats.errors import Error as NatsError

from fivetype import natsauth
from fivetype.natsserver import NatsServer, binary
from fivetype.ports import free_port
from services.runtime.bus import ensure_streams
from services.runtime.settings import NatsAuth, nats_auth
from tests import auth
from tests.conftest import Databases, eventually, scaled
from tests.deploy.chart import (
    SECRET,
    SERVICES,
    Obj,
    deployment,
    environment,
    example,
    hook,
    merged,
    named,
    nats_conf,
    part,
    render,
)

BIN = Path(sys.executable).parent
SMTP = {"fivetype-smtp": {"username": "office", "password": "secret"}}
AUTH = {"fivetype-auth": {"secret": auth.TEST_SECRET}}  # the chart's default auth.existingSecret


@pytest.fixture
def postgres_databases(postgres: str, tmp_path: Path) -> Iterator[Databases]:
    databases = Databases("postgres", tmp_path, postgres)
    yield databases
    databases.drop_all()


def executable(command: list[str]) -> list[str]:
    """The image's PATH, here: `fivetype` and `python` from this virtualenv."""
    program = {"fivetype": str(BIN / "fivetype"), "python": sys.executable}[command[0]]
    return [program, *command[1:]]


def loopback_nats(url: str, nats_url: str) -> str:
    """The cluster's NATS host replaced by the local server's; credentials kept."""
    parts, local = urlsplit(url), urlsplit(nats_url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{local.netloc}" if userinfo else local.netloc
    return urlunsplit(parts._replace(netloc=netloc))


def localise(env: dict[str, str], service: str, nats_url: str, port: int) -> dict[str, str]:
    prefix = f"FIVETYPE_{service.upper()}_"
    assert env[f"{prefix}HTTP_HOST"] == "0.0.0.0"
    return {
        **env,
        f"{prefix}NATS_URL": loopback_nats(env[f"{prefix}NATS_URL"], nats_url),
        f"{prefix}HTTP_HOST": "127.0.0.1",
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}METRICS_PORT": str(free_port()),
    }


def base_env(home: Path) -> dict[str, str]:
    """What the image provides besides the pod's environment (see the Dockerfile)."""
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


class Pod:
    """One rendered container run as a local process."""

    def __init__(self, name: str, container: Obj, env: dict[str, str], workdir: Path):
        self.name, self.container = name, container
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                executable(container["command"]),
                env={**base_env(workdir), **env},
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def tail(self) -> str:
        return f"--- {self.name} ---\n{self.log.read_text(errors='replace')[-3000:]}"


def probe_url(container: Obj, probe: str, port: int) -> str:
    get = container[probe]["httpGet"]
    declared = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert get["port"] in declared, f"{probe} uses an undeclared port"
    return f"http://127.0.0.1:{port}{get['path']}"


def answers_200(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop(pods: list[Pod]) -> None:
    for pod in pods:
        if pod.process.poll() is None:
            pod.process.kill()
            pod.process.wait()


@pytest.mark.postgres
def test_rendered_workloads_migrate_become_ready_and_stop_cleanly(
    postgres_databases: Databases, nats: NatsServer, tmp_path: Path
) -> None:
    objects = render(example("values-small"))
    secrets = {
        "fivetype-database": {f"{s}-url": postgres_databases.url(s) for s in SERVICES},
        **SMTP,
        **AUTH,
    }
    ports = {service: free_port() for service in SERVICES}

    migrations = []
    for service in SERVICES:
        (container,) = named(objects, "Job", part(f"migrate-{service}"))["spec"]["template"][
            "spec"
        ]["containers"]
        env = localise(environment(container, objects, secrets), service, nats.url, 0)
        migrations.append(Pod(f"migrate-{service}", container, env, tmp_path))
    try:
        for job in migrations:
            assert job.process.wait(timeout=scaled(120)) == 0, job.tail()
    finally:
        stop(migrations)

    pods: list[Pod] = []
    try:
        for service in SERVICES:
            spec = deployment(objects, service)["spec"]["template"]["spec"]
            (container,) = spec["containers"]
            env = localise(
                environment(container, objects, secrets), service, nats.url, ports[service]
            )
            pods.append(Pod(service, container, env, tmp_path))

        def all_ready() -> bool:
            for pod in pods:
                assert pod.process.poll() is None, pod.tail()
            return all(
                answers_200(probe_url(pod.container, "readinessProbe", ports[pod.name]))
                for pod in pods
            )

        try:
            eventually(all_ready, timeout=90, interval=0.3)
        except AssertionError:
            print("\n".join(pod.tail() for pod in pods))
            raise
        for pod in pods:
            for probe in ("startupProbe", "livenessProbe"):
                assert answers_200(probe_url(pod.container, probe, ports[pod.name])), probe

        run_helm_test(objects, ports, tmp_path)

        for pod in pods:
            pod.process.send_signal(signal.SIGTERM)
        for pod, service in zip(pods, SERVICES, strict=True):
            grace = deployment(objects, service)["spec"]["template"]["spec"][
                "terminationGracePeriodSeconds"
            ]
            # Uvicorn ends a graceful shutdown by re-raising the signal (exit status 143 in a
            # container); what matters is that the drain finished within the grace period.
            assert pod.process.wait(timeout=grace) in (0, -signal.SIGTERM), pod.tail()
            assert '"service stopped"' in pod.log.read_text(), pod.tail()
    finally:
        stop(pods)


def run_helm_test(objects: list[Obj], ports: dict[str, int], workdir: Path) -> None:
    """The `helm test` pod's own command, its Service URLs pointed at the local processes."""
    (test_pod,) = [o for o in objects if hook(o) == "test"]
    (container,) = test_pod["spec"]["containers"]
    command = list(container["command"])
    for service, port in ports.items():
        url = f"http://{part(service)}:80/readyz"
        assert url in command, f"helm test does not check {service}"
        command[command.index(url)] = f"http://127.0.0.1:{port}/readyz"
    result = subprocess.run(
        executable(command),
        env=base_env(workdir),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=scaled(60),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The check must be able to fail: a service that does not answer.
    command[-1] = f"http://127.0.0.1:{free_port()}/readyz"
    failing = subprocess.run(executable(command), env=base_env(workdir), capture_output=True)
    assert failing.returncode == 1


def test_bundled_nats_admits_the_services_nkeys_and_no_one_else(tmp_path: Path) -> None:
    objects = render(merged(example("values-small"), SECRET))
    credentials = tmp_path / "nats-auth"  # the pod's /etc/nats-auth, beside /etc/nats
    natsauth.write_authorization(credentials, [])
    secrets = {
        "fivetype-database": {f"{s}-url": "postgresql://x@db/x" for s in SERVICES},
        **SMTP,
        **AUTH,
    }
    client, monitor = free_port(), free_port()
    replacements = {
        "listen: 0.0.0.0:4222": f"listen: 127.0.0.1:{client}",
        "http: 0.0.0.0:8222": f"http: 127.0.0.1:{monitor}",
        "pid_file: /var/run/nats/nats.pid": f"pid_file: {tmp_path / 'nats.pid'}",
        "store_dir: /data": f"store_dir: {tmp_path / 'data'}",
    }
    conf = nats_conf(objects)
    for rendered_line, local_line in replacements.items():
        assert conf.count(rendered_line) == 1, rendered_line
        conf = conf.replace(rendered_line, local_line)
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "nats.conf").write_text(conf)
    statefulset = named(objects, "StatefulSet", part("nats"))
    server_container = statefulset["spec"]["template"]["spec"]["containers"][0]
    server_env = environment(server_container, objects, secrets, pod_name=f"{part('nats')}-0")
    assert server_container["command"][1:] == ["--config", "/etc/nats/nats.conf"]
    server = subprocess.Popen(
        [binary(), "--config", str(tmp_path / "nats" / "nats.conf")],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        local = f"nats://127.0.0.1:{client}"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            url = f"http://127.0.0.1:{monitor}{server_container[probe]['httpGet']['path']}"
            eventually(functools.partial(answers_200, url))
        varz = httpx.get(f"http://127.0.0.1:{monitor}/varz").json()
        assert varz["server_name"] == f"{part('nats')}-0"
        assert varz["jetstream"]["config"]["sync_always"] is True
        (container,) = deployment(objects, "measures")["spec"]["template"]["spec"]["containers"]
        env = environment(container, objects, secrets)
        url = loopback_nats(env["FIVETYPE_MEASURES_NATS_URL"], local)
        assert env["FIVETYPE_MEASURES_NATS_NKEY_FILE"] == "/etc/fivetype/nats/nkey"
        seed = natsauth.service_seed(credentials, "measures")  # the Secret's measures.nk
        assert asyncio.run(creates_streams(url, nats_auth("measures", seed))) is True
        assert asyncio.run(creates_streams(url, nats_auth("measures", None))) is False
    finally:
        server.terminate()
        server.wait(timeout=10)


async def creates_streams(url: str, auth: NatsAuth) -> bool:
    async def refused(_error: Exception) -> None:
        pass  # the refusal is the answer, not an error to log

    try:
        connection = await nats.connect(
            url, connect_timeout=2, allow_reconnect=False, error_cb=refused, **auth
        )
    except (NatsError, OSError):
        return False
    try:
        await ensure_streams(connection.jetstream(), 1)
        return True
    finally:
        await connection.close()
