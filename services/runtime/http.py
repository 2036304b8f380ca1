"""The HTTP side every service shares: health and readiness probes, /metrics, RED metrics,
a request size limit, and errors as RFC 9457 problem details in Chinese or English."""

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime import metrics

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# The largest integer a database column holds: paging beyond it would overflow in the driver.
BIGINT_MAX = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX, description="Items to skip (paging).")]


class Problem(Exception):
    """An error a client can act on: a stable `code` and a title in both languages."""

    def __init__(
        self,
        status: int,
        code: str,
        title_zh: str,
        title_en: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(code)
        self.status, self.code = status, code
        self.titles = {"zh": title_zh, "en": title_en}
        self.detail, self.errors, self.headers = detail, errors, headers


DATABASE_UNAVAILABLE = Problem(
    503,
    "database_unavailable",
    "数据库暂不可用，请稍后重试",
    "The database is unavailable; retry shortly",
    headers={"Retry-After": "5"},
)


def language(request: Request) -> str:
    """Chinese unless the client prefers English."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:fivetype:problem:{problem.code}",
        "title": problem.titles[language(request)],
        "status": problem.status,
        "code": problem.code,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


def route_template(request: Request) -> str | None:
    """The matched route's path template with the prefix of the routers it is included in,
    e.g. /v1/units/{unit}/progress-reports. FastAPI gives the route's own template
    (/units/{unit}/progress-reports); the prefix is the leading segments of the actual path
    that the template does not cover (one segment per path parameter)."""
    template: str | None = getattr(request.scope.get("route"), "path", None)
    if template is None:
        return None
    segments = request.url.path.split("/")
    prefix = "/".join(segments[: len(segments) - len(template.split("/")) + 1])
    return prefix + template


_STATUS_TITLES = {
    404: ("not_found", "资源不存在", "Not found"),
    405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
    413: ("payload_too_large", "请求体过大", "Request body too large"),
}


def _install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()
        ]
        return problem_response(
            request,
            Problem(
                422,
                "validation_failed",
                "请求内容不符合接口规范",
                "The request does not match the API schema",
                errors=errors,
            ),
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code, zh, en = _STATUS_TITLES.get(
            exc.status_code, ("http_error", "请求失败", "Request failed")
        )
        return problem_response(request, Problem(exc.status_code, code, zh, en))

    async def on_crash(request: Request, _exc: Exception) -> Response:
        # The client learns nothing of the cause (no trace, no SQL, no values). Starlette
        # raises the exception again after this response, and uvicorn logs it with its trace.
        return problem_response(
            request, Problem(500, "internal_error", "服务内部错误", "Internal server error")
        )

    async def on_database_down(request: Request, exc: Exception) -> Response:
        # The request may well succeed in a moment (a restart, a failover): say so, not 500.
        log.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
        return problem_response(request, DATABASE_UNAVAILABLE)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(Exception, on_crash)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_down)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_database_down)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)


class BodyLimit:
    """Refuses a chunked request body (one that announced no Content-Length) that grows past
    the limit, holding at most the limit in memory. Bodies with a length are refused up front
    by `observe`, and the server itself stops a body that outgrows its announced length."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] != "http" or b"content-length" in headers:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                code, zh, en = _STATUS_TITLES[413]
                response = problem_response(Request(scope), Problem(413, code, zh, en))
                await response(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the buffered body, then whatever the client sends next."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _install_middleware(app: FastAPI, service: str, max_request_bytes: int) -> None:
    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_request_bytes:
            code, zh, en = _STATUS_TITLES[413]
            return problem_response(
                request, Problem(413, code, zh, en, detail=f"limit {max_request_bytes} bytes")
            )
        started = time.perf_counter()
        response = await call_next(request)  # FastAPI itself makes the server span
        path = route_template(request) or "unmatched"  # the template, never the raw path
        metrics.HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(service, request.method, path).observe(
            time.perf_counter() - started
        )
        return response


def create_app(
    *,
    title: str,
    service: str,
    readiness: Callable[[], Awaitable[dict[str, bool]]],
    max_request_bytes: int,
    lifespan: Any = None,
    instance: str = "",
) -> FastAPI:
    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan)
    _install_error_handlers(app)
    _install_middleware(app, service, max_request_bytes)
    app.add_middleware(BodyLimit, max_bytes=max_request_bytes)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "instance": instance}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        checks = await readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
