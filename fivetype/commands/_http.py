"""The one way the command line and the demo talk HTTP to the services. Authentication, when the
services require it, is added here and nowhere else."""

from typing import Any

import httpx
import typer
from rich.console import Console

from fivetype import exits

console = Console(stderr=True)


def client(base_url: str) -> httpx.Client:
    """An HTTP client for one service; callers use it as a context manager."""
    return httpx.Client(base_url=base_url, timeout=60, headers={"accept-language": "zh"})


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
        code = problem.get("code", "")
        console.print(
            f"[red]{response.status_code} {code}: {title}[/] {problem.get('detail', '')}",
            markup=True,
        )
        raise typer.Exit(exits.NOT_FOUND if response.status_code == 404 else exits.FAILURE)
    return response
