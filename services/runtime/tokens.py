"""Minting bearer tokens: the six roles, `issue`, and where the deployment's signing secret is
found. Kept apart from `auth` (which verifies tokens inside a service and needs FastAPI) so the
command line can mint a token without loading a web framework."""

import os
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt

# A subject is an identifier (staff number, system name), never free text: it lands in the
# audit trail and in the domain's actor ids.
SUBJECT = re.compile(r"[A-Za-z0-9._:@/-]{1,128}")


class Role(StrEnum):
    OFFICE_ADMIN = "office_admin"
    UNIT_REPORTER = "unit_reporter"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    VIEWER = "viewer"
    OPERATOR = "operator"


def issue(secret: str, *, subject: str, role: Role, unit: str | None, ttl: timedelta) -> str:
    """A signed HS256 token; a unit reporter's token must name its unit."""
    if role is Role.UNIT_REPORTER and not unit:
        raise ValueError("a unit_reporter token needs a unit")
    if not SUBJECT.fullmatch(subject):
        raise ValueError(f"a subject is 1-128 of A-Z a-z 0-9 . _ : @ / -, not {subject!r}")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(16),
    }
    if unit:
        claims["unit"] = unit
    return jwt.encode(claims, secret, algorithm="HS256")


def shared_auth_secret(env: Mapping[str, str] = os.environ) -> str | None:
    """FIVETYPE_AUTH_SECRET, else the file FIVETYPE_AUTH_SECRET_FILE names, else None."""
    if secret := env.get("FIVETYPE_AUTH_SECRET"):
        return secret
    if path := env.get("FIVETYPE_AUTH_SECRET_FILE"):
        return Path(path).read_text().strip()
    return None
