"""Who is calling: signed JWT bearer tokens, the six roles, and a unit reporter's data scope.

Tokens are stateless, so the four services need no session store and no auth service: each one
checks the signature with the deployment's key. HS256 with a shared secret is the default; a
deployment that wants the office to keep the only signing key can give the services a public
key instead (RS256/ES256), which they can verify but never use to sign.
"""

from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.runtime import audit
from services.runtime.http import Problem, route_template
from services.runtime.ratelimit import ClientLimiter
from services.runtime.tokens import SUBJECT, Role
from services.runtime.tokens import issue as issue  # minting lives in tokens; re-exported

HMAC_ALGORITHMS = ["HS256"]
PUBLIC_KEY_ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 30  # clocks of the issuing machine and the services drift a little


# Everyone may read; a unit reporter's reads are narrowed to its unit by `Principal.scope`.
EVERYONE = tuple(Role)
# Programme-wide reads (rankings, every unit at once): all but a unit's own system.
READERS = (Role.VIEWER, Role.SUPERVISOR, Role.INSPECTOR, Role.OPERATOR)


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    unit: str | None
    source: str  # the client address: "from where" in the audit trail

    def sees(self, *units: str) -> bool:
        """Whether data of `units` (e.g. an assignment's lead and co-operating units) is within
        this caller's scope: everything for every role but a unit reporter, which sees only its
        own unit's.

        An item asked for by id that the caller does not see must be answered exactly as a
        missing one (`if row is None or not who.sees(row.unit): raise <the missing item's
        problem>`): a 403 would tell a unit that another unit's item exists."""
        return self.role is not Role.UNIT_REPORTER or self.unit in units

    def check_unit(self, *units: str) -> None:
        """403 when a unit reporter names another unit itself (in the path, a query or a body):
        that reveals nothing a unit may not know. For an item asked for by id, see `sees`."""
        if not self.sees(*units):
            raise Problem(
                403,
                "outside_unit_scope",
                "无权访问其他单位的数据",
                "This token may only access its own unit's data",
            )

    def scope(self, unit: str | None) -> str | None:
        """The unit filter a list query runs with: a unit reporter always sees only its own."""
        if self.role is not Role.UNIT_REPORTER:
            return unit
        if unit is not None:
            self.check_unit(unit)
        return self.unit


@dataclass(frozen=True)
class Verifier:
    """Checks a token's signature and claims with the deployment's key."""

    key: str
    algorithms: list[str]

    @classmethod
    def of(cls, key: str) -> "Verifier":
        public = key.lstrip().startswith("-----BEGIN")
        return cls(key, PUBLIC_KEY_ALGORITHMS if public else HMAC_ALGORITHMS)

    def claims(self, token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            self.key,
            algorithms=self.algorithms,
            options={"require": ["sub", "role", "exp", "iat", "jti"]},
            leeway=LEEWAY_SECONDS,
        )


def _unauthorized(code: str, zh: str, en: str) -> Problem:
    return Problem(401, code, zh, en, headers={"WWW-Authenticate": 'Bearer realm="fivetype"'})


def _invalid() -> Problem:
    return _unauthorized("invalid_token", "令牌无效", "The token is not valid")


def _forbidden() -> Problem:
    return Problem(403, "role_not_allowed", "当前角色无权执行此操作", "Your role may not do this")


_bearer = HTTPBearer(auto_error=False, description="A JWT from `fivetype token issue`")


def principal_of(claims: dict[str, Any], source: str) -> Principal:
    try:
        role = Role(claims["role"])
    except ValueError:
        raise _invalid() from None
    if not SUBJECT.fullmatch(str(claims["sub"])):
        raise _invalid()
    unit = claims.get("unit")
    if role is Role.UNIT_REPORTER and not isinstance(unit, str):
        raise _invalid()
    return Principal(str(claims["sub"]), role, unit if isinstance(unit, str) else None, source)


async def authenticate(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal:
    """The Authorization header as a Principal, or 401. Problem bodies never echo the token
    nor say which check failed beyond expired or invalid."""
    source = request.client.host if request.client else "unknown"
    limiter: ClientLimiter = request.app.state.limiter
    try:
        principal = _verified(request.app.state.verifier, credentials, source)
    except Problem:
        limiter.check(f"address:{source}")  # failed attempts count against the address
        raise
    limiter.check(f"subject:{principal.subject}")
    audit.CURRENT.set(await _act(request, principal))
    return principal


async def _act(request: Request, principal: Principal) -> audit.Act:
    """The audit entry's who/what/where for whatever this request commits."""
    body = await request.body()  # cached by Starlette: the route reads the same bytes
    return audit.Act(
        actor=principal.subject,
        role=principal.role.value,
        source=principal.source,
        action=f"{request.method} {route_template(request) or request.url.path}",
        target=request.url.path,
        details={"query": str(request.query_params), "body_sha256": sha256(body).hexdigest()},
    )


def _verified(
    verifier: Verifier | None, credentials: HTTPAuthorizationCredentials | None, source: str
) -> Principal:
    if credentials is None:
        raise _unauthorized("unauthenticated", "需要登录令牌", "A bearer token is required")
    if verifier is None:  # fail closed: a service without a key admits nobody
        raise _invalid()
    try:
        claims = verifier.claims(credentials.credentials)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("token_expired", "令牌已过期", "The token has expired") from None
    except jwt.InvalidTokenError:
        raise _invalid() from None
    return principal_of(claims, source)


AUTHENTICATED = Depends(authenticate)  # every /v1 router: no route is reachable without a token


def allow(*roles: Role) -> Any:
    """A route's role rule: the office admin runs the programme and may do anything; otherwise
    only the named roles. Use as a parameter: `who: Principal = allow(Role.INSPECTOR)`."""
    permitted = frozenset({Role.OFFICE_ADMIN, *roles})

    async def check(principal: Principal = Depends(authenticate)) -> Principal:
        if principal.role not in permitted:
            raise _forbidden()
        return principal

    check.roles = permitted  # type: ignore[attr-defined]  # the role matrix tests read it
    return Depends(check)


def own_unit(*roles: Role) -> Any:
    """The rule of a route under /units/{unit}: the roles, and a unit reporter only for its
    own unit."""
    guard = allow(*roles)

    async def scoped(unit: str, who: Principal = guard) -> Principal:
        who.check_unit(unit)
        return who

    return Depends(scoped)
