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


REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.MALFORMED_JSON: ("消息不是有效的 JSON", "The message is not valid JSON"),
    Reason.OVERSIZED: ("消息超过大小上限", "The message exceeds the size limit"),
    Reason.UNKNOWN_TYPE: (
        "消息类型不符合该主题",
        "The message type does not belong on this subject",
    ),
    Reason.UNSUPPORTED_VERSION: ("不支持该消息版本", "This schema version is not supported"),
    Reason.SCHEMA_VIOLATION: ("消息内容不符合接口规范", "The message violates its schema"),
    Reason.UNIT_MISMATCH: (
        "消息中的单位与发布主题的单位不一致",
        "The unit in the message differs from the unit of the subject",
    ),
    Reason.UNKNOWN_UNIT: ("责任单位不存在", "Unknown responsible unit"),
    Reason.UNKNOWN_MEASURE: ("举措不存在", "Unknown measure"),
    Reason.REPORTED_IN_FUTURE: ("报告时间晚于当前时间", "The report is dated in the future"),
    Reason.DUPLICATE_CONFLICT: (
        "该编号已被使用，且内容不同",
        "This id was already used with different content",
    ),
    Reason.RETRIES_EXHAUSTED: ("多次重试后仍处理失败", "Processing failed after all retries"),
}


def reason_text(reason: Reason, language: str = "zh") -> str:
    zh, en = REASON_TEXT[reason]
    return en if language == "en" else zh
