"""The subject naming scheme. Every subject ends in the unit it concerns, so permissions and
consumer filters can be written per unit: `fivetype.<family>.<message token>.<unit>`."""

import re

ROOT = "fivetype"
INTAKE = f"{ROOT}.intake"
EVENTS = f"{ROOT}.events"
REJECTIONS = f"{ROOT}.rejections"
DEAD_LETTERS = f"{ROOT}.dlq"
AUDIT = f"{ROOT}.audit"


def token(message_name: str) -> str:
    """ProgressReported -> progress_reported."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", message_name).lower()


def intake(command_name: str, unit: str = "*") -> str:
    return f"{INTAKE}.{token(command_name)}.{unit}"


def event(event_name: str, unit: str = "*") -> str:
    return f"{EVENTS}.{token(event_name)}.{unit}"


def rejection(unit: str = "*") -> str:
    return f"{REJECTIONS}.{unit}"


def dead_letter(consumer: str) -> str:
    return f"{DEAD_LETTERS}.{consumer}"


def audit_checkpoint(service: str) -> str:
    """Where a service anchors the head of its audit journal (services/runtime/audit.py)."""
    return f"{AUDIT}.{service}"


def unit_of(subject: str) -> str:
    return subject.rsplit(".", 1)[-1]


def template(subject: str) -> str:
    """fivetype.events.progress_reported.360102 -> fivetype.events.progress_reported.{unit}"""
    return subject.rsplit(".", 1)[0] + ".{unit}"
