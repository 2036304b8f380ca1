from datetime import UTC, datetime

from contracts.measures import ProgressReported
from services.notifications.domain.templates import progress_reported


def test_progress_message_in_chinese_and_english() -> None:
    rendered = progress_reported(
        ProgressReported(
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
    )
    assert rendered.title_zh == "东湖区报送了进展：M07 扎实推动数字政府建设大跨越"
    assert rendered.body_zh == "完成进度 62.5%。—（报送人：张三）"
    assert rendered.title_en == "东湖区 reported progress on M07 扎实推动数字政府建设大跨越"
    assert rendered.body_en.startswith("62.5% complete.")
