"""The language a person reads the command line in: Chinese unless `--lang en` is given or the
locale (LC_ALL, else LANG) is an English one. Tables and messages pick their words with `say`;
`--json` output is the services' own documents, whatever the language."""

import os
from typing import Annotated, Literal

import typer

Language = Literal["zh", "en"]


def from_locale() -> Language:
    """LC_ALL wins over LANG, as in every POSIX program; only an English locale means English
    (a C or POSIX locale, common in containers, still reads Chinese)."""
    locale = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "en" if locale.lower().startswith("en") else "zh"


def _checked(value: str | None) -> Language:
    if value is None:
        return from_locale()
    if value not in ("zh", "en"):
        raise typer.BadParameter("zh 或 en (zh or en)")
    return value  # type: ignore[return-value]


Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="zh (中文) or en; default from LC_ALL/LANG (en_* is English, anything else Chinese).",
        callback=_checked,
    ),
]
Wide = Annotated[bool, typer.Option("--wide", help="Every column, however wide the table gets.")]


def say(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def named(code: str, name: str | None, lang: str = "zh") -> str:
    """A unit or measure as people and codes both know it: 东湖区（360102）."""
    if not name or name == code:
        return code
    return say(lang, f"{name}（{code}）", f"{name} ({code})")


def light_name(light: str | None, lang: str) -> str:
    """A traffic light in words: 红灯/黄灯/绿灯, or red/yellow/green."""
    words = {"red": ("红灯", "red"), "yellow": ("黄灯", "yellow"), "green": ("绿灯", "green")}
    zh, en = words.get(light or "", (light or "", light or ""))
    return say(lang, zh, en)
