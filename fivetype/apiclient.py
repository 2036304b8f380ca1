"""The one way the command line and the demo talk HTTP to the services: with a bearer token, and
with refusals printed as the service worded them and turned into exit codes.

The token is FIVETYPE_TOKEN when set; otherwise the CLI mints a short-lived office admin token
with the deployment secret (FIVETYPE_AUTH_SECRET, FIVETYPE_AUTH_SECRET_FILE, or the secret the
embedded stack keeps in its data folder), so a local operator needs no extra step. When the
service still says 401 or 403, the command says which data folder, URL and secret or token it
used: the usual cause is a token of another stack.
"""

import os
import secrets
import weakref
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from fivetype import exits, state
from fivetype.lang import from_locale, say

if TYPE_CHECKING:  # imported when a request is made: `--help` and a command's start stay light
    import httpx

SECRET_FILE = "auth-secret"  # in the embedded stack's data folder
ADMIN_TOKEN_FILE = "office-admin.token"
DATA_DIR = Path(os.environ.get("FIVETYPE_DATA_DIR", str(state.DEFAULT_DATA_DIR)))
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


@dataclass(frozen=True)
class Secret:
    value: str
    source: str  # where it was found, for messages: a variable's name or a file


def find_secret(data_dir: Path = DATA_DIR) -> Secret | None:
    """The signing secret from the environment, else the embedded stack's (the running demo's
    for the default folder, or the demo's when the default folder has none), else None."""
    from services.runtime.tokens import shared_auth_secret

    if secret := shared_auth_secret():
        variable = "FIVETYPE_AUTH_SECRET"
        source = variable if os.environ.get(variable) else os.environ[f"{variable}_FILE"]
        return Secret(secret, source)
    folder = state.resolve(data_dir)
    folders = [folder, state.DEMO_DATA_DIR] if folder == state.DEFAULT_DATA_DIR else [folder]
    for candidate in folders:
        if (path := candidate / SECRET_FILE).exists():
            return Secret(path.read_text().strip(), str(path))
    return None


def deployment_secret(data_dir: Path = DATA_DIR) -> str | None:
    found = find_secret(data_dir)
    return None if found is None else found.value


@dataclass(frozen=True)
class Bearer:
    token: str | None
    source: str  # "FIVETYPE_TOKEN", "signed with <secret file>", or why there is none


def bearer(data_dir: Path = DATA_DIR) -> Bearer:
    """FIVETYPE_TOKEN, or a fresh short-lived office admin token, or none when neither a token
    nor a secret is at hand (the service then answers 401, which `call` reports)."""
    from services.runtime.tokens import Role, issue

    if token := os.environ.get("FIVETYPE_TOKEN"):
        return Bearer(token, "FIVETYPE_TOKEN")
    secret = find_secret(data_dir)
    if secret is None:
        return Bearer(None, f"none: no FIVETYPE_TOKEN, no secret in {data_dir}")
    token = issue(secret.value, subject="cli", role=Role.OFFICE_ADMIN, unit=None, ttl=CLI_TOKEN_TTL)
    return Bearer(token, f"office admin token signed with {secret.source}")


def unit_headers(data_dir: Path, unit: str) -> dict[str, str]:
    """The Authorization header of a fresh short-lived token of `unit`'s contact (a unit
    reporter), for what only the unit itself may do (the demo's appeal); none without a secret."""
    from services.runtime.tokens import Role, issue

    secret = find_secret(data_dir)
    if secret is None:
        return {}
    subject = f"{unit}:contact"
    token = issue(
        secret.value, subject=subject, role=Role.UNIT_REPORTER, unit=unit, ttl=CLI_TOKEN_TTL
    )
    return {"authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Origin:
    """Where a client's requests come from: the stack's folder, the token, the language."""

    data_dir: Path
    credentials: Bearer
    lang: str


_ORIGINS: "weakref.WeakKeyDictionary[httpx.Client, Origin]" = weakref.WeakKeyDictionary()


def client(base_url: str, data_dir: Path = DATA_DIR, lang: str | None = None) -> "httpx.Client":
    """An HTTP client for one service, asking for problems in `lang` (default: the locale's);
    callers use it as a context manager."""
    import httpx

    origin = Origin(state.resolve(data_dir), bearer(data_dir), lang or from_locale())
    headers = {"accept-language": origin.lang}
    if origin.credentials.token:
        headers["authorization"] = f"Bearer {origin.credentials.token}"
    http = httpx.Client(base_url=base_url, timeout=60, headers=headers)
    _ORIGINS[http] = origin
    return http


def _lang(http: "httpx.Client") -> str:
    origin = _ORIGINS.get(http)
    return origin.lang if origin else from_locale()


def send(http: "httpx.Client", method: str, path: str, **kwargs: Any) -> "httpx.Response":
    """One request, whatever its answer; an unreachable service ends the command (exit 3)."""
    import httpx

    try:
        return http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        lang = _lang(http)
        console.print(f"[red]{say(lang, '无法连接', 'cannot reach')} {http.base_url}: {exc}[/]")
        raise typer.Exit(exits.UNREACHABLE) from exc


def _whose_token(http: "httpx.Client") -> str:
    """What a 401 or 403 needs to be understood: which stack and which token."""
    origin = _ORIGINS.get(http)
    if origin is None:
        return ""
    lang = origin.lang
    return "\n".join(
        (
            f"  {say(lang, '数据目录', 'data folder')}: {origin.data_dir.resolve()}",
            f"  {say(lang, '服务地址', 'URL')}: {http.base_url}",
            f"  {say(lang, '令牌', 'token')}: {origin.credentials.source}",
            "  "
            + say(
                lang,
                "可用 --data-dir 指定数据目录，或设置 FIVETYPE_TOKEN",
                "name the stack's folder with --data-dir, or set FIVETYPE_TOKEN",
            ),
        )
    )


def field_errors(problem: dict[str, Any]) -> list[str]:
    """What a problem document says of each field, one line each: `data.percent: 应不大于 100`."""
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return []
    return [f"{e.get('loc', '')}: {e.get('msg', '')}" for e in errors if isinstance(e, dict)]


def call(http: "httpx.Client", method: str, path: str, **kwargs: Any) -> "httpx.Response":
    """One request that must succeed; a refusal ends the command with its exit code (4 for not
    found, else 1), printing the problem document's code, title, detail and field errors."""
    response = send(http, method, path, **kwargs)
    if response.status_code >= 400:
        problem = response.json() if "json" in response.headers.get("content-type", "") else {}
        title = problem.get("title", response.reason_phrase)
        detail = problem.get("detail", "")
        console.print(f"[red]{response.status_code} {problem.get('code', '')}: {title}[/] {detail}")
        for line in field_errors(problem):
            console.print(f"  {line}", markup=False)
        if response.status_code in (401, 403):
            console.print(_whose_token(http), markup=False)
        raise typer.Exit(exits.NOT_FOUND if response.status_code == 404 else exits.FAILURE)
    return response
