"""What the benchmarks share: the HTTP client they call the services with, and process memory."""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from services.runtime.auth import Role, issue

# A secret for this run only: every service a benchmark starts inherits the environment, so it
# verifies the office token the benchmarks call it with.
SECRET = secrets.token_hex(32)
os.environ["FIVETYPE_AUTH_SECRET"] = SECRET
OFFICE_TOKEN = issue(
    SECRET, subject="bench", role=Role.OFFICE_ADMIN, unit=None, ttl=timedelta(hours=2)
)


def _client_options(base_url: str) -> dict[str, Any]:
    """Every HTTP call of the benchmarks is made with these options (add headers here)."""
    return {
        "base_url": base_url,
        "timeout": 30,
        "headers": {"Authorization": f"Bearer {OFFICE_TOKEN}"},
    }


def http_client(base_url: str) -> httpx.Client:
    return httpx.Client(**_client_options(base_url))


def async_http_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_client_options(base_url))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (Linux: VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found[1]) / 1024 if found else float("nan")
