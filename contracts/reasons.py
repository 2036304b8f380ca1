"""Machine-readable reason codes for rejections and dead letters, with Chinese and English text."""

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED_JSON = "malformed_json"
    OVERSIZED = "oversized"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    SCHEMA_VIOLATION = "schema_violation"
    UNIT_MISMATCH = "unit_mismatch"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_MEASURE = "unknown_measure"
    REPORTED_IN_FUTURE = "reported_in_future"
    DUPLICATE_CONFLICT = "duplicate_conflict"
    RETRIES_EXHAUSTED = "retries_exhausted"
    UNKNOWN_ASSIGNMENT = "unknown_assignment"
    AMBIGUOUS_ASSIGNMENT = "ambiguous_assignment"
    NOT_ASSIGNED = "not_assigned"  # no longer sent (unknown_assignment); kept to decode old ones
    MEASURE_MISMATCH = "measure_mismatch"
    UNKNOWN_MILESTONE = "unknown_milestone"
    MILESTONE_OF_OTHER_UNIT = "milestone_of_other_unit"
    UNKNOWN_TARGET = "unknown_target"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    REPORTED_BEFORE_START = "reported_before_start"
    UNKNOWN_PUBLIC_REQUEST = "unknown_public_request"
    INVALID_TRANSITION = "invalid_transition"
    DEADLINE_NOT_AFTER_START = "deadline_not_after_start"
    STEP_OUT_OF_ORDER = "step_out_of_order"


REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.MALFORMED_JSON: ("消息格式错误，无法解析", "The message is not valid JSON"),
    Reason.OVERSIZED: ("消息超过大小上限", "The message exceeds the size limit"),
    Reason.UNKNOWN_TYPE: (
        "消息类型不符合该主题",
        "The message type does not belong on this subject",
    ),
    Reason.UNSUPPORTED_VERSION: ("不支持该消息版本", "This schema version is not supported"),
    Reason.SCHEMA_VIOLATION: ("消息内容不符合接口规范", "The message violates its schema"),
    Reason.UNIT_MISMATCH: (
        "报告所填单位与报送单位不一致",
        "The unit in the report is not the unit it was sent for",
    ),
    Reason.UNKNOWN_UNIT: ("责任单位不存在", "Unknown responsible unit"),
    Reason.UNKNOWN_MEASURE: ("举措不存在", "Unknown measure"),
    Reason.REPORTED_IN_FUTURE: ("报告时间晚于当前时间", "The report is dated in the future"),
    Reason.DUPLICATE_CONFLICT: (
        "该编号已被使用，且内容不同",
        "This id was already used with different content",
    ),
    Reason.RETRIES_EXHAUSTED: ("多次重试后仍处理失败", "Processing failed after all retries"),
    Reason.UNKNOWN_ASSIGNMENT: ("交办任务不存在", "Unknown assignment"),
    Reason.AMBIGUOUS_ASSIGNMENT: (
        "该单位本年度有多项该举措的交办任务，请注明交办任务编号",
        "The unit has several assignments of this measure this year; name the assignment",
    ),
    Reason.NOT_ASSIGNED: (
        "该交办任务未交办给报送单位",
        "The assignment is not assigned to the reporting unit",
    ),
    Reason.MEASURE_MISMATCH: (
        "举措编号与交办任务不一致",
        "The measure code differs from the assignment's",
    ),
    Reason.UNKNOWN_MILESTONE: (
        "该交办任务没有这个节点任务",
        "The assignment has no such milestone",
    ),
    Reason.MILESTONE_OF_OTHER_UNIT: (
        "该节点任务由其他单位负责",
        "The milestone belongs to another unit",
    ),
    Reason.UNKNOWN_TARGET: ("该举措没有这个量化目标", "The measure has no such target"),
    Reason.VALUE_OUT_OF_RANGE: ("数值超出允许范围", "The value is out of range"),
    Reason.REPORTED_BEFORE_START: (
        "报告时间早于交办任务开始时间",
        "The report is dated before the assignment starts",
    ),
    Reason.UNKNOWN_PUBLIC_REQUEST: ("诉求工单不存在", "Unknown public request"),
    Reason.INVALID_TRANSITION: (
        "当前状态不允许该操作",
        "This action is not allowed in the item's current state",
    ),
    Reason.DEADLINE_NOT_AFTER_START: (
        "办理时限必须晚于受理或重办时间",
        "The time limit must be after the time the request was received or reopened",
    ),
    Reason.STEP_OUT_OF_ORDER: (
        "办理环节的时间早于上一环节",
        "This step is dated before the request's previous step",
    ),
}


def reason_text(reason: Reason, language: str = "zh") -> str:
    zh, en = REASON_TEXT[reason]
    return en if language == "en" else zh
