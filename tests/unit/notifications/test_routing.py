import pytest
from pydantic import ValidationError

from contracts.inspections import Severity
from services.notifications.domain.routing import (
    Channel,
    Reachable,
    Role,
    Rule,
    RuleSpec,
    parse_unit_mailbox,
    route,
    unit_mailbox,
)
from services.notifications.domain.topics import Occurrence, Topic


def occurrence(topic: Topic, unit: str = "360102", severity: Severity | None = None) -> Occurrence:
    return Occurrence("n-1", topic, unit, "e-1", {}, severity)


def rule(rule_id: str = "r", **spec: object) -> Rule:
    return Rule(
        rule_id, RuleSpec.model_validate({"topic": "finding_raised", "targets": ["office"]} | spec)
    )


def test_a_rule_matches_topic_unit_peer_group_and_severity() -> None:
    finding = occurrence(Topic.FINDING_RAISED, severity=Severity.SERIOUS)
    assert rule().matches(finding, "county")
    assert not rule(topic="deadline_missed").matches(finding, "county")
    assert rule(unit="360102").matches(finding, "county")
    assert not rule(unit="360103").matches(finding, "county")
    assert rule(peer_group="county").matches(finding, "county")
    assert not rule(peer_group="devzone").matches(finding, "county")
    assert not rule(peer_group="county").matches(finding, None)  # unit not in the replica yet
    assert rule(min_severity="serious").matches(finding, None)
    assert not rule(min_severity="critical").matches(finding, None)
    unrated = occurrence(Topic.FINDING_RAISED)
    assert not rule(min_severity="minor").matches(unrated, None)
    assert not rule(enabled=False).matches(finding, "county")


def test_routes_are_the_union_of_matching_rules() -> None:
    rules = [
        rule("a", targets=["unit_contact"], channels=["inbox"]),
        rule("b", targets=["unit_contact", "office"], channels=["email"]),
        rule("c", topic="deadline_missed", targets=["leaders"]),
    ]
    routes = route(rules, occurrence(Topic.FINDING_RAISED), "county")
    assert routes == {
        "unit_contact": {Channel.INBOX, Channel.EMAIL},
        "office": {Channel.EMAIL},
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"targets": ["boss"]}, "'boss' is not a target; use one of unit_contact, unit_head"),
        ({"targets": ["recipient:Bad Code"]}, "is not a target"),
        ({"targets": ["office", "office"]}, "target 'office' is listed twice"),
        ({"channels": ["email", "email"]}, "channel 'email' is listed twice"),
        ({"unit": "360102", "peer_group": "county"}, "give unit or peer_group, not both"),
        ({"topic": "progress_reported", "min_severity": "minor"}, "min_severity applies only"),
        ({"topic": "digest"}, "it is not routed"),
        ({"peer_group": "Counties"}, "String should match pattern"),
    ],
)
def test_a_malformed_rule_says_what_is_wrong(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(**spec)


def test_unit_mailboxes_are_named_after_unit_and_role() -> None:
    assert unit_mailbox("360102", Role.HEAD) == "360102:head"
    assert parse_unit_mailbox("nc-hitech:contact") == ("nc-hitech", Role.CONTACT)
    assert parse_unit_mailbox("office") is None
    assert parse_unit_mailbox("x:leader") is None
    assert Reachable(False, False).channels() == {Channel.INBOX}
    assert Reachable(True, True).channels() == set(Channel)


def test_a_rule_may_choose_deadline_items_by_kind() -> None:
    verification = Occurrence(
        "n-1", Topic.DEADLINE_MISSED, "360102", "e-1", {}, None, "verification"
    )
    office = rule(topic="deadline_missed", item_types=["verification"])
    units = rule(topic="deadline_missed", item_types=["milestone", "rectification_plan"])
    assert office.matches(verification, None) and not units.matches(verification, None)
    assert rule(topic="deadline_missed").matches(verification, None)  # no filter: every kind
    with pytest.raises(ValidationError, match="item_types applies only"):
        rule(topic="finding_raised", item_types=["milestone"])
    assert rule(topic="public_notice", targets=["all_units", "leaders"]).spec.targets[0] == (
        "all_units"
    )
