"""The credentials generator: seeds are made once, kept private and reused, and the
authorization config grants each client exactly what contracts/permissions.py derives."""

import re
from pathlib import Path

import nkeys
from typer.testing import CliRunner

from contracts import permissions, subjects
from fivetype import natsauth
from fivetype.cli import app
from fivetype.stack import SERVICES
from services.runtime.bus import declared_consumers

runner = CliRunner()


def test_a_unit_is_granted_only_subjects_that_end_in_its_own_code() -> None:
    granted = permissions.unit("360102")
    for subject in (*granted.publish, *granted.subscribe):
        assert "360102" in subject.split(".") or subject.endswith(".360102.>"), subject
        assert "*" not in subject and subject != ">", subject
    assert granted.publish[0] == subjects.intake("ReportProgress", "360102")


def test_every_service_of_the_platform_has_permissions() -> None:
    assert tuple(SERVICES) == permissions.SERVICES


def test_services_publish_what_the_registry_says_they_produce() -> None:
    measures, scoring = (
        permissions.service(name, declared_consumers(name)) for name in ("measures", "scoring")
    )
    assert subjects.event("ProgressReported") in measures.publish
    assert subjects.event("ProgressReported") not in scoring.publish
    assert subjects.rejection() in measures.publish and subjects.rejection() not in scoring.publish
    # Scoring reads only events; measures reads only intake.
    assert not [s for s in scoring.publish if "FIVETYPE_INTAKE" in s and "CONSUMER" in s]
    assert not [s for s in measures.publish if "FIVETYPE_EVENTS" in s and "CONSUMER" in s]


def test_a_service_may_touch_only_the_consumers_it_declares() -> None:
    granted = permissions.service("measures", declared_consumers("measures"))
    consumer_rights = [s for s in granted.publish if "CONSUMER" in s or s.startswith("$JS.ACK")]
    assert consumer_rights and all("measures-intake" in s for s in consumer_rights)
    assert not [s for s in granted.publish if ".STREAM.UPDATE." in s or ".STREAM.DELETE." in s]
    # The one consumer it may delete is its own catch-up consumer (runtime.catchup).
    deletes = [s for s in granted.publish if ".DELETE." in s]
    assert deletes == ["$JS.API.CONSUMER.DELETE.FIVETYPE_INTAKE.measures-intake-catch-up"]
    wildcards = [s for s in granted.publish if ">" in s]
    assert wildcards == [
        "fivetype.dlq.>",
        "$JS.ACK.FIVETYPE_INTAKE.measures-intake.>",
        "$JS.ACK.FIVETYPE_INTAKE.measures-intake-catch-up.>",
    ]


def test_the_unit_command_creates_a_private_seed_once(tmp_path: Path) -> None:
    first = runner.invoke(app, ["nats", "unit", "360102", "--dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    seed = natsauth.unit_seed(tmp_path, "360102")
    assert oct(seed.stat().st_mode & 0o777) == "0o600"
    public = nkeys.from_seed(bytearray(seed.read_bytes().strip())).public_key.decode()
    assert f'nkey: "{public}"' in first.output
    assert permissions.unit_inbox("360102") in first.output
    again = runner.invoke(app, ["nats", "unit", "360102", "--dir", str(tmp_path)])
    assert f'nkey: "{public}"' in again.output  # the same credentials, not new ones


def test_the_config_command_grants_the_operator_services_and_units(tmp_path: Path) -> None:
    units_file = tmp_path / "units.yaml"
    units_file.write_text(
        "peer_groups: [{code: county, name_zh: 县区, name_en: Counties}]\n"
        "units: [{code: '360103', name_zh: 西湖区, name_en: Xihu, peer_group: county}]\n"
    )
    result = runner.invoke(
        app,
        [
            "nats",
            "config",
            "--dir",
            str(tmp_path),
            "--unit",
            "wanli",
            "--units-file",
            str(units_file),
            "--channel",
            "hotline_12345",
        ],
    )
    assert result.exit_code == 0, result.output
    config = (tmp_path / natsauth.AUTH_CONF).read_text()
    comments = re.findall(r"# (.+)", config)
    assert comments == [
        "operator",
        *(f"service {s}" for s in permissions.SERVICES),
        "unit 360103",
        "unit wanli",
        "channel hotline_12345",
    ]
    assert config.count("nkey:") == len(comments)


def test_a_channel_sends_its_commands_for_any_unit_and_hears_only_its_inbox() -> None:
    granted = permissions.channel("hotline_12345")
    assert granted.publish == (subjects.intake("ReportPublicRequest"),)
    assert granted.subscribe == (f"{permissions.channel_inbox('hotline_12345')}.>",)


def test_a_bad_unit_code_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["nats", "unit", "a.b", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert not list(tmp_path.iterdir())
