"""Who hears about what: recipients, routing rules and their matching. Pure: no I/O.

A rule says "notifications of this topic (for this unit, or for units of this peer group, of at
least this severity) go to these targets over these channels". Targets are roles resolved per
notification (the unit's contact, the unit's head, the office, the city leaders) or one named
recipient. A recipient's own settings then decide which of the rule's channels it can receive:
the in-app inbox always, email if it has addresses, the webhook if it has an endpoint.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.common import invalid_value
from contracts.envelope import UNIT_CODE_PATTERN, UnitCode
from contracts.inspections import Severity
from services.notifications.domain.topics import SEVERITY_ORDER, WITH_SEVERITY, Occurrence, Topic

RECIPIENT_CODE_PATTERN = r"^[a-z0-9][a-z0-9:-]{1,63}$"
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
PEER_GROUP_PATTERN = r"^[a-z][a-z0-9-]*$"


class Role(StrEnum):
    CONTACT = "contact"  # 联络员: the unit's day-to-day contact
    HEAD = "head"  # 主要负责人: the unit's head
    OFFICE = "office"  # 市“五型”办
    LEADER = "leader"  # 市领导
    OTHER = "other"  # anyone else a rule names, e.g. an inspection team


UNIT_ROLES = (Role.CONTACT, Role.HEAD)


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


PUSH_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)


def unit_mailbox(unit: str, role: Role) -> str:
    """Every unit has one mailbox per unit role, named after it: `360102:contact`."""
    return f"{unit}:{role.value}"


def parse_unit_mailbox(code: str) -> tuple[str, Role] | None:
    unit, _, role = code.rpartition(":")
    if role in {r.value for r in UNIT_ROLES} and re.fullmatch(UNIT_CODE_PATTERN, unit):
        return unit, Role(role)
    return None


# Role targets; a named recipient is `recipient:<code>`. `all_units` is every unit's contact
# (a bulletin goes to all units, whichever unit it names).
ROLE_TARGETS = {
    "unit_contact": Role.CONTACT,
    "unit_head": Role.HEAD,
    "office": Role.OFFICE,
    "leaders": Role.LEADER,
}
ALL_UNITS = "all_units"
RECIPIENT_PREFIX = "recipient:"


def named_recipient(target: str) -> str | None:
    return target.removeprefix(RECIPIENT_PREFIX) if target.startswith(RECIPIENT_PREFIX) else None


def _check_target(target: str) -> str:
    if target in ROLE_TARGETS or target == ALL_UNITS:
        return target
    code = named_recipient(target)
    if code is not None and re.fullmatch(RECIPIENT_CODE_PATTERN, code):
        return target
    roles = ", ".join([*ROLE_TARGETS, ALL_UNITS])
    raise invalid_value(
        f"{target!r} 不是有效的发送对象；应为 {roles} 之一或“recipient:<编码>”",
        f"{target!r} is not a target; use one of {roles} or recipient:<code>",
    )


Target = Annotated[str, Field(min_length=1, max_length=80)]
ItemType = Annotated[str, Field(pattern=r"^[a-z][a-z_]{1,39}$")]

# Topics about one deadline item, so a rule may choose them by the item's kind.
WITH_ITEM_TYPE = frozenset(
    {
        Topic.DEADLINE_APPROACHING,
        Topic.DEADLINE_MISSED,
        Topic.SIGN_REMINDER,
        Topic.SUPERVISION_ORDER,
    }
)


def _no_duplicates(values: Iterable[str], what: str, what_zh: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise invalid_value(f"{what_zh} '{value}' 重复", f"{what} '{value}' is listed twice")
        seen.add(value)


class RuleSpec(BaseModel):
    """A routing rule as an administrator writes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    description: str = Field(default="", max_length=200)
    topic: Topic
    unit: UnitCode | None = Field(default=None, description="Only notifications about this unit.")
    peer_group: str | None = Field(
        default=None,
        pattern=PEER_GROUP_PATTERN,
        max_length=40,
        description="Only notifications about units of this peer group.",
    )
    min_severity: Severity | None = Field(
        default=None, description="Only findings and rectifications at least this severe."
    )
    item_types: list[ItemType] | None = Field(
        default=None,
        max_length=20,
        description="Only reminders, notices and supervision orders about these kinds of item "
        "(e.g. verification deadlines are the office's own).",
    )
    targets: list[Target] = Field(min_length=1, max_length=20)
    channels: list[Channel] = Field(
        default_factory=lambda: list(Channel), min_length=1, max_length=len(Channel)
    )
    enabled: bool = True

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        for target in targets:
            _check_target(target)
        _no_duplicates(targets, "target", "发送对象")
        return targets

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[Channel]) -> list[Channel]:
        _no_duplicates(channels, "channel", "渠道")
        return channels

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.topic is Topic.DIGEST:
            raise invalid_value(
                "每日汇总发给选择汇总的收件人，不按规则分发",
                "the digest goes to each recipient that prefers it; it is not routed",
            )
        if self.unit is not None and self.peer_group is not None:
            raise invalid_value(
                "“unit”与“peer_group”只能填写其一：一个单位只属于一个考核类别",
                "give unit or peer_group, not both: a unit has one peer group",
            )
        if self.item_types is not None and self.topic not in WITH_ITEM_TYPE:
            topics = ", ".join(sorted(WITH_ITEM_TYPE))
            raise invalid_value(
                f"item_types 仅适用于有关期限事项的主题（{topics}），不适用于 {self.topic.value}",
                f"item_types applies only to topics about a deadline item ({topics}), "
                f"not to {self.topic.value}",
            )
        if self.min_severity is not None and self.topic not in WITH_SEVERITY:
            topics = ", ".join(sorted(WITH_SEVERITY))
            raise invalid_value(
                f"min_severity 仅适用于有严重程度的主题（{topics}），不适用于 {self.topic.value}",
                f"min_severity applies only to topics with a severity ({topics}), "
                f"not to {self.topic.value}",
            )
        return self

    @property
    def named_recipients(self) -> list[str]:
        return [code for t in self.targets if (code := named_recipient(t)) is not None]


@dataclass(frozen=True)
class Rule:
    id: str
    spec: RuleSpec

    def matches(self, occurrence: Occurrence, peer_group: str | None) -> bool:
        spec = self.spec
        if not spec.enabled or spec.topic != occurrence.topic:
            return False
        if spec.unit is not None and spec.unit != occurrence.unit:
            return False
        if spec.peer_group is not None and spec.peer_group != peer_group:
            return False
        if spec.item_types is not None and occurrence.item_type not in spec.item_types:
            return False
        if spec.min_severity is not None:
            severity = occurrence.severity
            if severity is None or SEVERITY_ORDER[severity] < SEVERITY_ORDER[spec.min_severity]:
                return False
        return True


def route(
    rules: Iterable[Rule], occurrence: Occurrence, peer_group: str | None
) -> dict[str, set[Channel]]:
    """Targets and the channels each is to be reached on, over every matching rule."""
    routes: dict[str, set[Channel]] = {}
    for rule in rules:
        if rule.matches(occurrence, peer_group):
            for target in rule.spec.targets:
                routes.setdefault(target, set()).update(rule.spec.channels)
    return routes


@dataclass(frozen=True)
class Reachable:
    """What a recipient can receive on: the inbox always, the others once configured."""

    has_email: bool
    has_webhook: bool

    def channels(self) -> set[Channel]:
        found = {Channel.INBOX}
        if self.has_email:
            found.add(Channel.EMAIL)
        if self.has_webhook:
            found.add(Channel.WEBHOOK)
        return found
