"""What the inspections unit tests share: the real reference data and one actor per role."""

from services.inspections.domain.actors import Actor, Role
from services.inspections.domain.reference import (
    DEFAULT_CATALOGUE_PATH,
    DEFAULT_UNITS_PATH,
    load_reference,
)

REFERENCE = load_reference(DEFAULT_UNITS_PATH, DEFAULT_CATALOGUE_PATH)
INSPECTOR = Actor(role=Role.INSPECTOR, id="insp-007", name="市五型办督查组 王敏")
OFFICE = Actor(role=Role.OFFICE, id="office-01", name="市五型办 刘洋")
CHANNEL = Actor(role=Role.CHANNEL, id="12345-center", name="12345热线")


def unit_actor(unit: str = "360102") -> Actor:
    return Actor(role=Role.UNIT, id=f"staff-{unit}", name="整改联络员", unit=unit)


def supervisor_actor(supervisor_id: str) -> Actor:
    return Actor(role=Role.SUPERVISOR, id=supervisor_id, name="监督员")
