"""The one way the command line and the demo talk HTTP to the services: with a bearer token, and
with refusals printed as the service worded them and turned into exit codes.

The token is FIVETYPE_TOKEN when set; otherwise the CLI mints a short-lived office admin token
with the deployment secret (FIVETYPE_AUTH_SECRET, FIVETYPE_AUTH_SECRET_FILE, or the secret the
embedded stack keeps in its data folder), so a local operator needs no extra step.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from fivetype import exits
from services.runtime.auth import Role, issue
from services.runtime.settings import shared_auth_secret

SECRET_FILE = "auth-secret"  # in the embedded stack's data folder
ADMIN_TOKEN_FILE = "office-admin.token"
DATA_DIR = Path(os.environ.get("FIVETYPE_DATA_DIR", "data"))
DEMO_DATA_DIR = Path("data") / "demo"  # `fivetype run --demo` keeps its own secret there
CLI_TOKEN_TTL = timedelta(minutes=10)
console = Console(stderr=True)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600), created so from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def stack_secret(data_dir: Path) -> Path:
    """The embedded stack's secret file, created with 64 random hex digits on first use."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        write_private(path, secrets.token_hex(32))
    return path


def deployment_secret(data_dir: Path = DATA_DIR) -> str | None:
    """The signing secret from the environment, else the embedded stack's (the demo's when the
    default folder has none), else None."""
    if secret := shared_auth_secret():
        return secret
    folders = [data_dir, DEMO_DATA_DIR] if data_dir == Path("data") else [data_dir]
    for folder in folders:
        if (path := folder / SECRET_FILE).exists():
            return path.read_text().strip()
    return None


def bearer(data_dir: Path = DATA_DIR) -> str | None:
    """FIVETYPE_TOKEN, or a fresh short-lived office admin token, or None when neither a token
    nor a secret is at hand (the service then answers 401, which `call` reports)."""
    if token := os.environ.get("FIVETYPE_TOKEN"):
        return token
    secret = deployment_secret(data_dir)
    if secret is None:
        return None
    return issue(secret, subject="cli", role=Role.OFFICE_ADMIN, unit=None, ttl=CLI_TOKEN_TTL)


def client(base_url: str, data_dir: Path = DATA_DIR) -> httpx.Client:
    """An HTTP client for one service; callers use it as a context manager."""
    headers = {"accept-language": "zh"}
    if token := bearer(data_dir):
        headers["authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=base_url, timeout=60, headers=headers)


def send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, whatever its answer; an unreachable service ends the command (exit 3)."""
    try:
        return http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {http.base_url}: {exc}[/]")
        raise typer.Exit(exits.UNREACHABLE) from exc


def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request that must succeed; a refusal ends the command with its exit code (4 for not
    found, else 1), printing the problem document's code and title."""
    response = send(http, method, path, **kwargs)
    if response.status_code >= 400:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        title = problem.get("title", response.reason_phrase)
        detail = problem.get("detail", "")
        console.print(f"[red]{response.status_code} {problem.get('code', '')}: {title}[/] {detail}")
        raise typer.Exit(exits.NOT_FOUND if response.status_code == 404 else exits.FAILURE)
    return response
