"""The names of the kinds of deadline items, from data (data/items.yaml), so that a new kind of
deadline needs a line of data rather than code. Pure but for the loader."""

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.measures import DeadlineItem

DEFAULT_ITEMS_PATH = Path(__file__).resolve().parent.parent / "data" / "items.yaml"


class ItemName(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=80)


class ItemKinds:
    def __init__(self, names: Mapping[str, ItemName]):
        missing = sorted(set(DeadlineItem) - set(names))
        if missing:
            raise ValueError(f"no name for the deadline item kind(s): {', '.join(missing)}")
        self._names = dict(names)

    def name(self, item_type: str) -> ItemName:
        return self._names[item_type]


def load_items(path: Path = DEFAULT_ITEMS_PATH) -> ItemKinds:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping of item kind to names")
    return ItemKinds({str(k): ItemName.model_validate(v) for k, v in document.items()})
