"""The rubric (考核评分细则): versioned data, one file per programme year, validated as a whole.

Two models: `deduction` (2026.1: start at full marks and deduct, kept so its cards stay
reproducible) and `earned` (2026.2 on: points earned by the work assigned). Formulas are
declarative: indicators name a formula, the input it reads (see inputs.INPUTS) and its
parameters; nothing is evaluated as code. A rubric with an unknown formula, input, attribute or
type, weights that do not add up, bands that overlap or a quota over 100 % is refused with every
problem listed, and whatever rubric was in force stays in force.
"""

from typing import Annotated, Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from services.runtime.field_errors import field_error
from services.scoring.domain.rubric_deduction import DeductionRubric, check_deduction
from services.scoring.domain.rubric_earned import EarnedRubric, check_earned
from services.scoring.domain.rubric_parts import FieldProblem, RubricRefused

Rubric = DeductionRubric | EarnedRubric
_MODELS: TypeAdapter[Rubric] = TypeAdapter(
    Annotated[DeductionRubric | EarnedRubric, Field(discriminator="model")]
)
__all__ = [
    "DeductionRubric",
    "EarnedRubric",
    "Rubric",
    "RubricRefused",
    "parse_rubric",
]


def _location(loc: tuple[int | str, ...], document: dict[str, Any]) -> str:
    text = ""
    node: Any = document
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            ident = node.get("id") if isinstance(node, dict) else None
            text += f"[{part}]" + (f" ({ident})" if ident else "")
        elif part in ("deduction", "earned", "per_event", "rate", "proportional", "target") and (
            not isinstance(node, dict) or part not in node
        ):
            continue  # pydantic names the union member it tried; the reader needs the path
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
    return text or "rubric"


def _pydantic_errors(error: ValidationError, document: dict[str, Any]) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        where = _location(tuple(item["loc"]), document)
        context = item.get("ctx", {})
        if item["type"] == "union_tag_invalid":
            kind = context.get("discriminator", "kind").strip(chr(39))
            tag, known = context.get("tag"), context.get("expected_tags")
            problems.append(
                FieldProblem(
                    where,
                    f"未知的 {kind} {tag!r}；可用：{known}",
                    f"unknown {kind} {tag!r}; known: {known}",
                )
            )
        elif item["type"] == "union_tag_not_found":
            kind = context.get("discriminator", "kind")
            problems.append(FieldProblem(where, f"缺少 {kind}", f"missing {kind}"))
        else:
            said = field_error(item, "zh")["msg"]
            problems.append(FieldProblem(where, said, item["msg"]))
    return problems


def parse_rubric(text: str, source: str) -> Rubric:
    """Read and validate a rubric (YAML or JSON); raises RubricRefused listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        where_zh = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
        invalid = FieldProblem(
            "", f"{where_zh}不是有效的 YAML", f"{where}not valid YAML ({problem})"
        )
        raise RubricRefused(source, [invalid]) from exc
    if not isinstance(document, dict):
        top = FieldProblem("rubric", "顶层应为键值映射", "expected a mapping at the top level")
        raise RubricRefused(source, [top])
    return rubric_from_document(document, source)


def rubric_from_document(document: dict[str, Any], source: str) -> Rubric:
    """Validate a rubric document of either model (`model`: deduction, the default, or earned)."""
    try:
        rubric: Rubric = _MODELS.validate_python({"model": "deduction", **document})
    except ValidationError as exc:
        raise RubricRefused(source, _pydantic_errors(exc, document)) from exc
    errors = check_earned(rubric) if isinstance(rubric, EarnedRubric) else check_deduction(rubric)
    if errors:
        raise RubricRefused(source, errors)
    return rubric
