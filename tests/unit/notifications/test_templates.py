import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from contracts.envelope import wrap
from contracts.measures import DeadlineItem, ProgressReported
from services.notifications.domain import occurrences
from services.notifications.domain.items import ItemKinds, ItemName, load_items
from services.notifications.domain.templates import (
    Template,
    Templates,
    Text,
    load_templates,
    placeholders,
)
from services.notifications.domain.topics import FIELDS, Topic
from services.notifications.domain.wording import lateness, overdue
from services.runtime.workdays import chinese_date


def test_progress_message_in_chinese_and_english() -> None:
    event = ProgressReported(
        report_id="r-1",
        unit="360102",
        unit_name="东湖区",
        measure_code="M07",
        measure_title="扎实推动数字政府建设大跨越",
        percent_complete=62.5,
        summary="",
        reported_at=datetime(2026, 11, 1, tzinfo=UTC),
        reporter="张三",
    )
    occurrence = occurrences.progress_reported(wrap(event, subject="360102", source="t"), "东湖区")
    rendered = load_templates().render(occurrence.topic, occurrence.fields)
    assert rendered.title_zh == "东湖区报送了进展：M07 扎实推动数字政府建设大跨越"
    assert rendered.body_zh == "完成进度62.5%。—（报送人：张三）"
    assert rendered.title_en == "东湖区 reported progress on M07 扎实推动数字政府建设大跨越"
    assert rendered.body_en.startswith("62.5% complete.")


def test_every_topic_renders_with_the_fields_it_provides() -> None:
    templates = load_templates()
    for topic in Topic:
        rendered = templates.render(topic, {name: f"<{name}>" for name in FIELDS[topic]})
        assert rendered.title_zh and rendered.body_en
        assert "{" not in rendered.body_zh + rendered.body_en


def test_the_chinese_texts_use_official_terms() -> None:
    """Reviewed term by term: 诉求工单 (not 诉求件), 问题等级 (not 严重程度), 限办日期 in every
    rung of the ladder, and no English word inside a Chinese sentence."""
    templates = load_templates()
    chinese = ""
    for topic in Topic:
        rendered = templates.render(topic, {name: "" for name in FIELDS[topic]})
        chinese += rendered.title_zh + rendered.body_zh
    for avoided in ("诉求件", "严重程度", "群众诉求", "逾期0", "整改期限"):
        assert avoided not in chinese
    assert not re.search(r"[A-Za-z]", chinese)
    for rung in (Topic.DEADLINE_APPROACHING, Topic.DEADLINE_MISSED, Topic.SUPERVISION_ORDER):
        fields = {name: "" for name in FIELDS[rung]} | {"due_date": "2026年4月11日"}
        assert "限办日期为2026年4月11日" in templates.render(rung, fields).body_zh


def test_every_kind_of_deadline_item_has_a_name_and_a_new_one_is_refused_without() -> None:
    items = load_items()
    assert items.name(DeadlineItem.PUBLIC_REQUEST.value).zh == "诉求工单"
    assert items.name("verification").zh == "整改验收"  # data ahead of the contract is harmless
    with pytest.raises(ValueError, match="no name for the deadline item kind"):
        ItemKinds({"milestone": ItemName(zh="工作节点", en="milestone")})


def test_english_falls_back_to_chinese_where_it_is_missing() -> None:
    chinese_only = Template(zh=Text(title="{unit}逾期", body="请办理"))
    complete = {t: Template(zh=Text(title="t", body="b")) for t in Topic}
    templates = Templates(complete | {Topic.DEADLINE_MISSED: chinese_only})
    fields = {name: "东湖区" for name in FIELDS[Topic.DEADLINE_MISSED]}
    rendered = templates.render(Topic.DEADLINE_MISSED, fields)
    assert (rendered.title("en"), rendered.body("en")) == ("东湖区逾期", "请办理")


def test_a_template_with_an_unknown_placeholder_fails_the_start(tmp_path: Path) -> None:
    complete = {t: Template(zh=Text(title="t", body="b")) for t in Topic}
    broken = Template(zh=Text(title="{unit}", body="{due}"))
    with pytest.raises(
        ValueError, match=r"deadline_missed.zh.body: unknown placeholder\(s\) \['due'\]"
    ):
        Templates(complete | {Topic.DEADLINE_MISSED: broken})
    with pytest.raises(ValueError, match="no template for topic"):
        Templates({Topic.DIGEST: broken})
    with pytest.raises(ValueError, match="must be a plain name"):
        placeholders("{unit.name}")
    path = tmp_path / "templates.yaml"
    path.write_text("made_up_topic:\n  zh: {title: t, body: b}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown topic"):
        load_templates(path)


def test_the_documented_placeholders_are_the_ones_topics_provide() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
    rows = {}
    for line in docs.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and cells[0].strip("`") in set(Topic) and "," in cells[1] + ",":
            rows[Topic(cells[0].strip("`"))] = set(cells[1].split(", "))
    assert rows == {topic: set(names) for topic, names in FIELDS.items()}


def test_dates_and_lateness_read_as_an_office_writes_them() -> None:
    assert chinese_date(date(2026, 4, 11)) == "2026年4月11日"
    assert lateness(0) == ("按期", "on time") and lateness(3)[0] == "逾期3天"
    assert overdue(0)[0] == "已逾期" and overdue(2)[0] == "逾期2个工作日"
