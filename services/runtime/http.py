"""The HTTP side every service shares: health and readiness probes, RED metrics, server spans,
a request size limit, JSON bodies only as JSON (415 otherwise, 400 `malformed_json` when they
do not parse), and errors as RFC 9457 problem details in Chinese or English, documented in every
operation of the OpenAPI document. /metrics is served on its own port (operations.py)."""

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.reasons import Reason
from services.runtime import metrics, operations
from services.runtime.field_errors import field_error

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# The largest integer a database column holds: paging beyond it would overflow in the driver.
BIGINT_MAX = 2**63 - 1
Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX, description="Items to skip (paging).")]


class Problem(Exception):
    """An error a client can act on: a stable `code` and a title in both languages. `detail`
    and `errors` serve both languages unless `detail_en` and `errors_en` give English ones
    (then `detail` and `errors` are Chinese)."""

    def __init__(
        self,
        status: int,
        code: str,
        title_zh: str,
        title_en: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        detail_en: str | None = None,
        errors_en: list[dict[str, Any]] | None = None,
    ):
        super().__init__(code)
        self.status, self.code = status, code
        self.titles = {"zh": title_zh, "en": title_en}
        self.details = {"zh": detail, "en": detail_en or detail}
        self.error_lists = {"zh": errors, "en": errors_en or errors}
        self.detail, self.headers = detail, headers


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
    lang = language(request)
    body: dict[str, Any] = {
        "type": f"urn:fivetype:problem:{problem.code}",
        "title": problem.titles[lang],
        "status": problem.status,
        "code": problem.code,
    }
    if detail := problem.details[lang]:
        body["detail"] = detail
    if errors := problem.error_lists[lang]:
        body["errors"] = errors
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
    415: ("unsupported_media_type", "请求体须为 JSON 格式", "The request body must be JSON"),
}
MALFORMED_JSON = Problem(
    400,
    Reason.MALFORMED_JSON.value,
    "请求体不是有效的 JSON（或不是 UTF-8 编码）",
    "The request body is not valid JSON (or not UTF-8)",
)
# What FastAPI says when a JSON body fails to parse other than by a syntax error (invalid
# UTF-8, nesting deeper than the parser's recursion limit).
_UNPARSABLE_BODY = "There was an error parsing the body"


def _install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _unsupported_body(request):
            code, zh, en = _STATUS_TITLES[415]
            return problem_response(request, Problem(415, code, zh, en))
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(request, MALFORMED_JSON)
        errors = [field_error(e, language(request)) for e in exc.errors()]
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
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            return problem_response(request, MALFORMED_JSON)
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


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _unsupported_body(request: Request) -> bool:
    """A body not sent as JSON to a route that reads JSON: FastAPI hands its bytes to the model
    instead of parsing them (the upload routes read their bodies themselves)."""
    route = request.scope.get("route")
    headers = request.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    return (
        isinstance(route, APIRoute)
        and route.body_field is not None
        and has_body
        and not _is_json(headers.get("content-type", ""))
    )


def _install_middleware(app: FastAPI, service: str, max_request_bytes: int) -> None:
    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_request_bytes:
            code, zh, en = _STATUS_TITLES[413]
            limit = f"{max_request_bytes} bytes"
            problem = Problem(413, code, zh, en, f"上限 {max_request_bytes} 字节", detail_en=limit)
            return problem_response(request, problem)
        if request.url.path in operations.PROBE_PATHS:  # not API traffic
            return await call_next(request)
        started = time.perf_counter()
        response = await call_next(request)  # FastAPI itself makes the server span
        path = route_template(request) or "unmatched"  # the template, never the raw path
        metrics.HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(service, request.method, path).observe(
            time.perf_counter() - started
        )
        return response


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is the stable reason a client acts on.",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:fivetype:problem:validation_failed"]},
        "title": {"type": "string", "description": "In Chinese, or English on request."},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "string"}, "msg": {"type": "string"}},
            },
        },
    },
}
_PROBLEMS_OF_EVERY_API_CALL = {
    "401": "No valid bearer token (`unauthenticated`, `invalid_token`, `token_expired`)",
    "403": "The token's role or unit may not do this (`role_not_allowed`, "
    "`outside_unit_scope`, ...)",
    "429": "Too many requests from this client (`rate_limited`); see Retry-After",
    "503": "The database is unavailable for a moment (`database_unavailable`)",
}
_PROBLEMS_OF_A_BODY = {
    "400": "The body is not valid JSON or not UTF-8 (`malformed_json`)",
    "413": "The body is larger than the limit (`payload_too_large`)",
    "415": "The body is not sent as `application/json` (`unsupported_media_type`)",
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document_problems(schema: dict[str, Any]) -> None:
    """Every operation of an OpenAPI document lists the problems it may answer with: those
    of every API call, those of a body, 404 for an item named in the path, and 422 (which
    FastAPI documents with its own schema, not the problem we send)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, methods in schema.get("paths", {}).items():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            wanted: dict[str, str] = {}
            if path.startswith("/v1/"):
                wanted |= _PROBLEMS_OF_EVERY_API_CALL
            if "requestBody" in operation:
                wanted |= _PROBLEMS_OF_A_BODY
            if "{" in path:
                wanted["404"] = "Nothing by that name (`not_found`, or the item's own code)"
            if "422" in responses or "requestBody" in operation or operation.get("parameters"):
                wanted["422"] = "The request does not match the schema (`validation_failed`)"
            for status, description in wanted.items():
                documented = responses.get(status)
                if documented is None or "HTTPValidationError" in str(documented):
                    responses[status] = _problem(description)
                else:  # the route's own description stands; the body is a problem
                    documented.setdefault("content", {}).update(_problem("")["content"])


def create_app(
    *,
    title: str,
    service: str,
    readiness: Callable[[], Awaitable[operations.Readiness]],
    max_request_bytes: int,
    lifespan: Any = None,
    instance: str = "",
) -> FastAPI:
    # FastAPI makes the server spans itself (continuing the caller's traceparent); probes get none.
    telemetry: TelemetryConfig = {"exclude": operations.is_probe}
    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan, telemetry=telemetry)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(generate())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    _install_error_handlers(app)
    _install_middleware(app, service, max_request_bytes)
    app.add_middleware(BodyLimit, max_bytes=max_request_bytes)
    operations.install_probes(app, readiness, instance)
    return app
