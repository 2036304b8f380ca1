"""The published contract files are generated from the code and must not drift from it; an
integrator who has only those files can build and validate a valid message."""

import json
import uuid
from pathlib import Path

import jsonschema
import yaml

from contracts.export import ASYNCAPI_PATH, SCHEMA_DIR, rendered_files
from contracts.registry import MESSAGES


def test_files_match_the_code() -> None:
    expected = rendered_files()
    stale = sorted(set(SCHEMA_DIR.glob("*.json")) - set(expected))
    assert not stale, f"remove stale schema files {stale} (python -m contracts.export)"
    for path, text in expected.items():
        assert path.exists(), f"{path} missing: run `make contracts`"
        assert path.read_text(encoding="utf-8") == text, f"{path} drifted: run `make contracts`"


def test_asyncapi_names_every_message_and_its_subject() -> None:
    document = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {spec.subject() for spec in MESSAGES}
    for message in document["components"]["messages"].values():
        assert (ASYNCAPI_PATH.parent / message["payload"]["$ref"]).exists()


def test_a_message_built_from_the_files_alone_validates() -> None:
    """What an integrator in another language does: read the schema, fill the fields."""
    schema = json.loads((SCHEMA_DIR / "ReportProgress.v1.json").read_text(encoding="utf-8"))
    message = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "unit/360102",
        "type": "ReportProgress",
        "schemaversion": 1,
        "time": "2026-11-26T08:00:00+08:00",
        "subject": "360102",
        "data": {
            "report_id": "2026-W48-M07",
            "unit": "360102",
            "measure_code": "M07",
            "percent_complete": 62.5,
            "reported_at": "2026-11-26T08:00:00+08:00",
            "reporter": "东湖区政务服务中心",
            "evidence": [{"uri": "https://oa.example/doc/1", "sha256": "ab" * 32}],
        },
    }
    jsonschema.Draft202012Validator(schema).validate(message)
    bad = {**message, "data": {**message["data"], "percent_complete": 120}}
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)
    assert not Path(SCHEMA_DIR / "Unknown.v1.json").exists()
