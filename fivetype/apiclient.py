"""How the CLI calls the services' HTTP APIs: with a bearer token, and with refusals printed
as the service worded them.

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

from services.runtime.auth import Role, issue
from services.runtime.settings import shared_auth_secret

SECRET_FILE = "auth-secret"  # in the embedded stack's data folder
ADMIN_TOKEN_FILE = "office-admin.token"
DATA_DIR = Path(os.environ.get("FIVETYPE_DATA_DIR", "data"))
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
    """The signing secret from the environment, else the embedded stack's, else None."""
    if secret := shared_auth_secret():
        return secret
    path = data_dir / SECRET_FILE
    return path.read_text().strip() if path.exists() else None


def bearer(data_dir: Path = DATA_DIR) -> str:
    """FIVETYPE_TOKEN, or a fresh short-lived office admin token."""
    if token := os.environ.get("FIVETYPE_TOKEN"):
        return token
    secret = deployment_secret(data_dir)
    if secret is None:
        console.print(
            "[red]no token: set FIVETYPE_TOKEN, or FIVETYPE_AUTH_SECRET(_FILE) to mint one[/]"
        )
        raise typer.Exit(2)
    return issue(secret, subject="cli", role=Role.OFFICE_ADMIN, unit=None, ttl=CLI_TOKEN_TTL)


def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One authenticated request; a transport error or a problem response ends the command."""
    headers = {"Authorization": f"Bearer {bearer()}", **kwargs.pop("headers", {})}
    try:
        response = httpx.request(method, url, timeout=60, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach {url}: {exc}[/]")
        raise typer.Exit(1) from exc
    if response.status_code >= 400:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        title = problem.get("title", response.reason_phrase)
        detail = problem.get("detail", "")
        console.print(f"[red]{response.status_code} {problem.get('code', '')}: {title}[/] {detail}")
        raise typer.Exit(1)
    return response
