"""HTTP routes to administer who hears about what: recipients (mailboxes with their email
addresses and webhook), routing rules, a dry run of the routing, and the unit replica.

A webhook's signing secret is write-only: it is accepted on PUT and never returned or logged."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.common import invalid_value
from contracts.envelope import UnitCode, new_id
from contracts.inspections import Severity
from services.notifications.adapters import repository
from services.notifications.adapters.channels import reachable
from services.notifications.adapters.tables import Delivery, Recipient, RoutingRule
from services.notifications.domain.addresses import parse_webhook_url, refusal_for_host
from services.notifications.domain.delivery import DeliveryStatus
from services.notifications.domain.routing import (
    RECIPIENT_CODE_PATTERN,
    RULE_ID_PATTERN,
    UNIT_ROLES,
    Channel,
    Role,
    RuleSpec,
    parse_unit_mailbox,
)
from services.notifications.domain.topics import Occurrence, Topic
from services.notifications.handlers.common import Context
from services.notifications.handlers.fanout import plan
from services.notifications.settings import NotificationsSettings
from services.runtime import auth
from services.runtime.auth import EVERYONE, READERS, allow
from services.runtime.field_errors import FieldProblem
from services.runtime.http import Offset, Problem
from services.runtime.service import ServiceRuntime

RecipientCode = Annotated[str, Path(pattern=RECIPIENT_CODE_PATTERN)]
RuleId = Annotated[str, Path(pattern=RULE_ID_PATTERN)]
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;]{1,64}@[^@\s<>,;]+\.[^@\s<>,;]+$")
MIN_SECRET_CHARS = 32


# ------------------------------------------------------------------------------- recipients


class WebhookSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2048)
    secret: SecretStr | None = Field(
        default=None,
        description="HMAC key, at least 32 characters; omit it to keep the current one.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        parse_webhook_url(url)
        return url

    @field_validator("secret")
    @classmethod
    def _secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not MIN_SECRET_CHARS <= len(secret.get_secret_value()) <= 256:
            raise invalid_value(
                f"密钥须为 {MIN_SECRET_CHARS} 至 256 个字符",
                f"the secret must have {MIN_SECRET_CHARS} to 256 characters",
            )
        return secret


class RecipientSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    unit: UnitCode | None = None
    name: str = Field(min_length=1, max_length=200)
    language: Literal["zh", "en"] = "zh"
    emails: list[str] = Field(default_factory=list, max_length=10)
    webhook: WebhookSpec | None = None
    digest: bool = Field(default=False, description="Prefer a daily digest to a message per event.")
    active: bool = True

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if len(email) > 254 or not EMAIL_PATTERN.fullmatch(email):
                raise invalid_value(
                    f"{email!r} 不是有效的电子邮箱地址", f"{email!r} is not an email address"
                )
        if len({e.lower() for e in emails}) != len(emails):
            raise invalid_value("电子邮箱地址重复", "an email address is listed twice")
        return emails

    @model_validator(mode="after")
    def _unit_matches_role(self) -> Self:
        if self.role in UNIT_ROLES and self.unit is None:
            raise invalid_value(
                f"{self.role.value} 类收件人属于某一单位：请填写“unit”",
                f"a {self.role.value} mailbox belongs to a unit: give unit",
            )
        if self.role in (Role.OFFICE, Role.LEADER) and self.unit is not None:
            raise invalid_value(
                f"{self.role.value} 类收件人不属于任何单位：请勿填写“unit”",
                f"a {self.role.value} recipient belongs to no unit: omit unit",
            )
        return self


class WebhookView(BaseModel):
    url: str
    secret_set: bool


class RecipientView(BaseModel):
    code: str
    role: str
    unit: str | None
    name: str
    language: str
    emails: list[str]
    webhook: WebhookView | None
    digest: bool
    active: bool
    channels: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Recipient) -> "RecipientView":
        webhook = (
            WebhookView(url=row.webhook_url, secret_set=bool(row.webhook_secret))
            if row.webhook_url
            else None
        )
        return cls(
            code=row.code,
            role=row.role,
            unit=row.unit,
            name=row.name,
            language=row.language,
            emails=list(row.emails),
            webhook=webhook,
            digest=row.digest,
            active=row.active,
            channels=sorted(c.value for c in reachable(row)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def invalid(code: str, zh: str, en: str, errors: list[FieldProblem]) -> Problem:
    """The errors, field by field, in the reader's language; the detail counts them."""
    english = "; ".join(f"{e.loc}: {e.en}" for e in errors)
    return Problem(
        422,
        code,
        zh,
        en,
        f"共 {len(errors)} 处问题",
        [e.entry("zh") for e in errors],
        detail_en=english,
        errors_en=[e.entry("en") for e in errors],
    )


def _mailbox_errors(code: str, spec: RecipientSpec) -> list[FieldProblem]:
    mailbox = parse_unit_mailbox(code)
    if mailbox is not None:
        unit, role = mailbox
        if spec.role is not role or spec.unit != unit:
            return [
                FieldProblem(
                    "role",
                    f"{code} 是单位 {unit} 的 {role.value} 收件箱：“role”须为 {role.value}，"
                    f"“unit”须为 {unit}",
                    f"{code} is the {role.value} mailbox of unit {unit}: "
                    f"role must be {role.value} and unit {unit}",
                )
            ]
    elif spec.role in UNIT_ROLES:
        return [
            FieldProblem(
                "role",
                f"单位的 {spec.role.value} 收件箱编码为 <单位>:{spec.role.value}，"
                f"如 {spec.unit}:{spec.role.value}",
                f"a unit's {spec.role.value} mailbox is named <unit>:{spec.role.value}, "
                f"e.g. {spec.unit}:{spec.role.value}",
            )
        ]
    return []


def _unknown_unit(unit: str) -> FieldProblem:
    return FieldProblem(
        "unit", f"单位 {unit!r} 不在单位名录中", f"unit {unit!r} is not in the unit directory"
    )


async def _recipient_errors(
    session: AsyncSession,
    code: str,
    spec: RecipientSpec,
    existing: Recipient | None,
    allow_private: bool,
) -> list[FieldProblem]:
    errors = _mailbox_errors(code, spec)
    if spec.unit is not None and await repository.unit_of(session, spec.unit) is None:
        errors.append(_unknown_unit(spec.unit))
    if spec.webhook is not None:
        host = parse_webhook_url(spec.webhook.url).hostname or ""
        refusal = refusal_for_host(host, allow_private)
        if refusal:
            errors.append(
                FieldProblem(
                    "webhook.url", f"{host} 是本机或内网地址：不接受内网和本机地址", refusal
                )
            )
        if spec.webhook.secret is None and not (existing and existing.webhook_secret):
            errors.append(
                FieldProblem(
                    "webhook.secret", "新的推送地址须设置签名密钥", "a new webhook needs a secret"
                )
            )
    return errors


async def _put_recipient(
    session: AsyncSession, code: str, spec: RecipientSpec, existing: Recipient | None, now: datetime
) -> Recipient:
    webhook = spec.webhook
    kept_secret = existing.webhook_secret if existing else None
    values: dict[str, Any] = {
        "role": spec.role.value,
        "unit": spec.unit,
        "name": spec.name,
        "language": spec.language,
        "emails": spec.emails,
        "digest": spec.digest,
        "active": spec.active,
        "webhook_url": webhook.url if webhook else None,
        "webhook_secret": (
            None
            if webhook is None
            else webhook.secret.get_secret_value()
            if webhook.secret is not None
            else kept_secret
        ),
        "updated_at": now,
    }
    row = existing or Recipient(code=code, created_at=now, **values)
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    if not spec.digest:  # what waited for a digest goes out now
        deliveries = repository.table(Delivery)
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.recipient == code, deliveries.c.status == DeliveryStatus.HELD.value)
            .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now, updated_at=now)
        )
    return row


def recipients_router(
    runtime: ServiceRuntime, ctx: Context, settings: NotificationsSettings
) -> APIRouter:
    api = APIRouter(prefix="/v1/recipients", tags=["recipients"])

    @api.get("", summary="Recipients, by code", dependencies=[allow(auth.Role.OPERATOR)])
    async def list_recipients(
        role: Role | None = None,
        unit: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Offset = 0,
    ) -> list[RecipientView]:
        async with runtime.db.session() as session:
            rows = await repository.recipients(
                session, role.value if role else None, unit, limit, offset
            )
        return [RecipientView.of(row) for row in rows]

    @api.get(
        "/{code}",
        summary="One recipient (a webhook's secret is never shown)",
        dependencies=[allow(auth.Role.OPERATOR)],
    )
    async def get_recipient(code: RecipientCode) -> RecipientView:
        async with runtime.db.session() as session:
            row = await session.get(Recipient, code)
        if row is None:
            raise recipient_not_found(code)
        return RecipientView.of(row)

    @api.put(
        "/{code}",
        summary="Create or replace a recipient",
        dependencies=[allow()],
        responses={201: {"description": "Created"}, 422: {"description": "Invalid recipient"}},
    )
    async def put_recipient(
        code: RecipientCode, spec: RecipientSpec, response: Response
    ) -> RecipientView:
        async with runtime.db.session() as session, session.begin():
            existing = await session.get(Recipient, code)
            errors = await _recipient_errors(
                session, code, spec, existing, settings.webhook_allow_private_targets
            )
            if errors:
                raise invalid("invalid_recipient", "接收人设置有误", "Invalid recipient", errors)
            row = await _put_recipient(session, code, spec, existing, ctx.clock())
        response.status_code = 200 if existing else 201
        return RecipientView.of(row)

    @api.delete("/{code}", status_code=204, summary="Delete a recipient", dependencies=[allow()])
    async def delete_recipient(code: RecipientCode) -> Response:
        async with runtime.db.session() as session, session.begin():
            row = await session.get(Recipient, code)
            if row is None:
                raise recipient_not_found(code)
            if Role(row.role) in UNIT_ROLES:
                raise Problem(
                    409,
                    "unit_mailbox",
                    "单位联络员和主要负责人邮箱不能删除",
                    "A unit's contact and head mailboxes cannot be deleted",
                    "如需停止向其发送，请将其设为停用",
                    detail_en="set active to false to silence it",
                )
            naming = await repository.rules_naming(session, code)
            if naming:
                raise Problem(
                    409,
                    "recipient_in_use",
                    "该接收人仍被路由规则引用",
                    "Routing rules still name this recipient",
                    f"引用它的路由规则：{'、'.join(naming)}",
                    detail_en=f"rules: {', '.join(naming)}",
                )
            await session.delete(row)
        return Response(status_code=204)

    return api


def recipient_not_found(code: str) -> Problem:
    return Problem(404, "recipient_not_found", "接收人不存在", "Recipient not found", code)


# ------------------------------------------------------------------------------------ rules


class RuleView(RuleSpec):
    id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: RoutingRule) -> "RuleView":
        spec = repository.rule_of(row).spec
        return cls(id=row.id, created_at=row.created_at, updated_at=row.updated_at, **dict(spec))


async def _rule_errors(session: AsyncSession, spec: RuleSpec) -> list[FieldProblem]:
    errors = []
    if spec.unit is not None and await repository.unit_of(session, spec.unit) is None:
        errors.append(_unknown_unit(spec.unit))
    if spec.peer_group is not None:
        known = await repository.peer_groups(session)
        if spec.peer_group not in known:
            listed = ", ".join(sorted(known))
            errors.append(
                FieldProblem(
                    "peer_group",
                    f"考核类别 {spec.peer_group!r} 不存在（现有：{listed or '尚无'}）",
                    f"peer group {spec.peer_group!r} is not known (known: {listed or 'none yet'})",
                )
            )
    for index, target in enumerate(spec.targets):
        code = target.removeprefix("recipient:")
        if code != target and await session.get(Recipient, code) is None:
            errors.append(
                FieldProblem(
                    f"targets.{index}",
                    f"收件人 {code!r} 不存在",
                    f"recipient {code!r} does not exist",
                )
            )
    return errors


def rules_router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(prefix="/v1/routing-rules", tags=["routing"])

    @api.get("", summary="Routing rules, by id", dependencies=[allow(*READERS)])
    async def list_rules(topic: Topic | None = None) -> list[RuleView]:
        async with runtime.db.session() as session:
            rows = await repository.all_rules(session)
        return [RuleView.of(r) for r in rows if topic is None or r.topic == topic.value]

    @api.get("/{rule_id}", summary="One routing rule", dependencies=[allow(*READERS)])
    async def get_rule(rule_id: RuleId) -> RuleView:
        async with runtime.db.session() as session:
            row = await session.get(RoutingRule, rule_id)
        if row is None:
            raise _rule_not_found(rule_id)
        return RuleView.of(row)

    @api.put(
        "/{rule_id}",
        summary="Create or replace a routing rule",
        responses={201: {"description": "Created"}, 422: {"description": "Invalid rule"}},
        dependencies=[allow()],
    )
    async def put_rule(rule_id: RuleId, spec: RuleSpec, response: Response) -> RuleView:
        now = ctx.clock()
        async with runtime.db.session() as session, session.begin():
            errors = await _rule_errors(session, spec)
            if errors:
                raise invalid("invalid_rule", "路由规则有误", "Invalid routing rule", errors)
            row = await session.get(RoutingRule, rule_id)
            response.status_code = 200 if row else 201
            values = spec.model_dump(mode="json") | {"updated_at": now}
            row = row or RoutingRule(id=rule_id, created_at=now, **values)
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
        return RuleView.of(row)

    @api.delete(
        "/{rule_id}", status_code=204, summary="Delete a routing rule", dependencies=[allow()]
    )
    async def delete_rule(rule_id: RuleId) -> Response:
        async with runtime.db.session() as session, session.begin():
            row = await session.get(RoutingRule, rule_id)
            if row is None:
                raise _rule_not_found(rule_id)
            await session.delete(row)
        return Response(status_code=204)

    return api


def _rule_not_found(rule_id: str) -> Problem:
    return Problem(404, "rule_not_found", "路由规则不存在", "Routing rule not found", rule_id)


# ------------------------------------------------------------------------ dry run and units


class RouteView(BaseModel):
    recipient: str
    channels: list[Channel]


class UnitView(BaseModel):
    code: str
    name_zh: str
    name_en: str
    peer_group: str | None
    is_office: bool
    updated_at: datetime


def preview_router(runtime: ServiceRuntime, ctx: Context) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["routing"])

    @api.get(
        "/routing/preview",
        summary="Who would receive a notification, on which channels",
        dependencies=[allow(auth.Role.OPERATOR)],
    )
    async def preview(
        topic: Topic,
        unit: UnitCode,
        severity: Severity | None = None,
        item_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z_]{1,39}$")] = None,
    ) -> list[RouteView]:
        occurrence = Occurrence(new_id(), topic, unit, "preview", {}, severity, item_type)
        async with runtime.db.session() as session:
            transaction = await session.begin()
            try:
                return await _preview(session, ctx, occurrence)
            finally:  # a dry run: the mailboxes it would create are not kept
                await transaction.rollback()

    @api.get(
        "/units",
        summary="The unit directory as this service knows it (from UnitRegistered)",
        dependencies=[allow(*EVERYONE)],
    )
    async def units() -> list[UnitView]:
        async with runtime.db.session() as session:
            rows = await repository.units(session)
        return [UnitView.model_validate(row, from_attributes=True) for row in rows]

    return api


async def _preview(session: AsyncSession, ctx: Context, occurrence: Occurrence) -> list[RouteView]:
    routes = await plan(session, occurrence, ctx.clock())
    return [
        RouteView(recipient=code, channels=sorted(channels))
        for code, (_recipient, channels) in sorted(routes.items())
    ]


def router(runtime: ServiceRuntime, ctx: Context, settings: NotificationsSettings) -> APIRouter:
    api = APIRouter()
    api.include_router(recipients_router(runtime, ctx, settings))
    api.include_router(rules_router(runtime, ctx))
    api.include_router(preview_router(runtime, ctx))
    return api
