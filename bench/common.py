"""What the benchmarks share: the HTTP client they call the services with, and process memory."""

import re
from pathlib import Path
from typing import Any

import httpx


def _client_options(base_url: str) -> dict[str, Any]:
    """Every HTTP call of the benchmarks is made with these options (add headers here)."""
    return {"base_url": base_url, "timeout": 30}


def http_client(base_url: str) -> httpx.Client:
    return httpx.Client(**_client_options(base_url))


def async_http_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_client_options(base_url))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (Linux: VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found[1]) / 1024 if found else float("nan")
