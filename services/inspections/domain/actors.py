"""Who acts, and what each role may do.

The actor travels in every command. Over HTTP it is bound to the bearer token's claims
(`entrypoints.common.acting_as`); these rules then judge a verified identity.
"""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Name, invalid_value
from contracts.envelope import UnitCode
from services.inspections.domain.refusals import Refusal, RefusalCode


class Role(StrEnum):
    INSPECTOR = "inspector"  # 督查人员: files inspections, raises findings, verifies, closes out
    UNIT = "unit"  # 责任单位经办人: rectifies its own unit's findings, answers suggestions
    OFFICE = "office"  # 市"五型"办: keeps the supervisors' roster, assigns suggestions
    SUPERVISOR = "supervisor"  # 监督员: files suggestions in their own name
    CHANNEL = "channel"  # 12345 热线、信箱等渠道系统: reports public requests


ROLE_NAMES: dict[Role, str] = {
    Role.INSPECTOR: "督查人员",
    Role.UNIT: "责任单位",
    Role.OFFICE: "市“五型”办",
    Role.SUPERVISOR: "监督员",
    Role.CHANNEL: "诉求渠道",
}


class Actor(BaseModel):
    """The person or system making the request."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Role
    id: str = Field(
        pattern=r"^[A-Za-z0-9._:@/-]{1,128}$",
        description="Stable identifier: staff number, supervisor id or channel system name.",
    )
    name: Name
    unit: UnitCode | None = Field(default=None, description="Required for the `unit` role.")

    @model_validator(mode="after")
    def _unit_role_names_its_unit(self) -> Self:
        if self.role is Role.UNIT and self.unit is None:
            raise invalid_value(
                "角色为“unit”的操作人须填写其单位“unit”",
                "an actor with role 'unit' must name its unit",
            )
        return self


# What an actor asked to do, as the refusal says it: (Chinese, English).
Action = tuple[str, str]


def require_role(actor: Actor, *roles: Role, action: Action) -> Refusal | None:
    if actor.role in roles:
        return None
    zh, en = action
    allowed_zh = "、".join(ROLE_NAMES[role] for role in roles)
    allowed = ", ".join(role.value for role in roles)
    return Refusal(
        RefusalCode.ACTOR_NOT_PERMITTED,
        f"{zh}须由{allowed_zh}办理，当前角色为{ROLE_NAMES[actor.role]}",
        f"{en}: role {actor.role.value!r} may not; allowed: {allowed}",
    )


def require_unit(actor: Actor, unit: str, action: Action) -> Refusal | None:
    """Only someone acting for `unit` itself."""
    refusal = require_role(actor, Role.UNIT, action=action)
    if refusal is not None:
        return refusal
    if actor.unit != unit:
        zh, en = action
        return Refusal(
            RefusalCode.NOT_RESPONSIBLE_UNIT,
            f"{zh}：该事项的责任单位为 {unit}，经办人所属单位为 {actor.unit}",
            f"{en}: the item belongs to {unit!r}, the actor acts for {actor.unit!r}",
        )
    return None
