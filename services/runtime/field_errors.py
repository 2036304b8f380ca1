"""What is wrong with a field of a request, in the reader's language: pydantic says it in English
only, and the people who read a 422 of this platform read Chinese.

Each error type pydantic (or a contract's own validator) raises is given a Chinese template over
the error's context; a type without one keeps pydantic's English words, which stay the answer for
`Accept-Language: en`."""

from dataclasses import dataclass
from typing import Any

_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数值",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "literal_error": "应为以下取值之一：{expected}",
    "enum": "应为以下取值之一：{expected}",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时间",
    "datetime_type": "应为日期时间（ISO 8601，带时区）",
    "datetime_parsing": "应为日期时间（ISO 8601，带时区）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601，带时区）",
    "timezone_aware": "日期时间须带时区（如 +08:00）",
    "url_parsing": "应为网址",
    "url_scheme": "网址协议应为 {expected_schemes}",
    "uuid_parsing": "应为 UUID",
    "year_out_of_range": "须在 {first}-{last} 年之间",
    "subnormal_number": "须为 0 或正常数值（不接受非规格化的极小数）",
    "invalid": "{zh}",  # contracts.common.invalid_value: the validator's own Chinese words
}


def field_error(error: Any, lang: str) -> dict[str, str]:
    """One pydantic error as the problem's `errors[]` entry: where, and what, in `lang`."""
    loc = ".".join(str(part) for part in error["loc"])
    template = _ZH.get(error["type"]) if lang == "zh" else None
    if template is None:
        return {"loc": loc, "msg": error["msg"]}
    context = dict(error.get("ctx") or {})
    if isinstance(context.get("expected"), str):  # "'a', 'b' or 'c'" → "'a'、'b'、'c'"
        context["expected"] = context["expected"].replace(" or ", "、").replace(", ", "、")
    try:
        return {"loc": loc, "msg": template.format(**context)}
    except KeyError:  # a context without the value the template names
        return {"loc": loc, "msg": error["msg"]}


def said_in_chinese(errors: list[Any]) -> str | None:
    """Pydantic's errors as one Chinese sentence (a rejection's message_zh), or None if none."""
    worded = [field_error(error, "zh") for error in errors]
    return "；".join(f"{e['loc']}：{e['msg']}" if e["loc"] else e["msg"] for e in worded) or None


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field or place of a document (`loc`), in Chinese and in English:
    the services' own checks, beside pydantic's."""

    loc: str
    zh: str
    en: str

    def said(self, lang: str) -> str:
        text = self.en if lang == "en" else self.zh
        return f"{self.loc}: {text}" if self.loc else text

    def entry(self, lang: str) -> dict[str, str]:
        """As a problem's `errors[]` entry."""
        return {"loc": self.loc, "msg": self.en if lang == "en" else self.zh}
