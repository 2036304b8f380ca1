"""Message templates, in Chinese with English as the fallback.

The templates live in a YAML file (data/templates.yaml): per topic, a title and a body per
language. Chinese is required; a topic without English is shown in Chinese to English readers.
The file is checked as a whole at start-up: every topic has a template, and every placeholder is
one its topic provides, so a typo fails the start instead of a delivery.
"""

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.domain.topics import FIELDS, Topic

DEFAULT_TEMPLATES_PATH = Path(__file__).resolve().parent.parent / "data" / "templates.yaml"
LANGUAGES = ("zh", "en")


class Text(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=4000)


class Template(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: Text
    en: Text | None = None

    def text(self, language: str) -> Text:
        return self.en if language == "en" and self.en is not None else self.zh


@dataclass(frozen=True)
class Rendered:
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_zh

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_zh


def placeholders(text: str) -> set[str]:
    """The names a format string uses; attribute or index access is refused."""
    names = set()
    for _literal, name, _spec, _conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        names.add(name)
    return names


class Templates:
    def __init__(self, templates: Mapping[Topic, Template]):
        missing = sorted(set(Topic) - set(templates))
        if missing:
            raise ValueError(f"no template for topic(s): {', '.join(missing)}")
        for topic, template in templates.items():
            for language in LANGUAGES:
                text = getattr(template, language)
                if text is None:
                    continue
                for part in ("title", "body"):
                    where = f"{topic}.{language}.{part}"
                    try:
                        unknown = placeholders(getattr(text, part)) - FIELDS[topic]
                    except ValueError as exc:
                        raise ValueError(f"{where}: {exc}") from exc
                    if unknown:
                        allowed = ", ".join(sorted(FIELDS[topic]))
                        raise ValueError(
                            f"{where}: unknown placeholder(s) {sorted(unknown)}; "
                            f"{topic} provides {allowed}"
                        )
        self._templates = dict(templates)

    def render(self, topic: Topic, fields: Mapping[str, str]) -> Rendered:
        missing = FIELDS[topic] - set(fields)
        if missing:
            raise KeyError(f"{topic}: fields {sorted(missing)} not provided")
        template = self._templates[topic]
        zh, en = template.text("zh"), template.text("en")
        return Rendered(
            kind=topic.value,
            title_zh=zh.title.format_map(fields),
            title_en=en.title.format_map(fields),
            body_zh=zh.body.format_map(fields),
            body_en=en.body.format_map(fields),
        )


def load_templates(path: Path = DEFAULT_TEMPLATES_PATH) -> Templates:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping of topic to template")
    unknown = sorted(set(document) - set(Topic))
    if unknown:
        raise ValueError(f"{path}: unknown topic(s) {unknown}")
    return Templates({Topic(k): Template.model_validate(v) for k, v in document.items()})
