"""The events that publish the reference data the measures service owns, so other services keep
replicas of units, peer groups and measure types without reading its tables."""

import hashlib
import json

from pydantic import BaseModel

from contracts.measures import (
    CatalogueMeasure,
    CataloguePublished,
    CatalogueTarget,
    CatalogueType,
    UnitRegistered,
)
from services.measures.domain.catalogue import Catalogue, Target, Unit, UnitDirectory


def content_hash(model: BaseModel) -> str:
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def unit_registered(unit: Unit, directory: UnitDirectory) -> UnitRegistered:
    group = directory.peer_group(unit.peer_group)
    return UnitRegistered(
        unit=unit.code,
        name_zh=unit.name_zh,
        name_en=unit.name_en,
        peer_group=unit.peer_group,
        peer_group_name_zh=group.name_zh if group else None,
        peer_group_name_en=group.name_en if group else None,
        is_office=unit.is_office,
    )


def catalogue_published(catalogue: Catalogue) -> CataloguePublished:
    return CataloguePublished(
        year=catalogue.year,
        version=catalogue.version,
        types=[
            CatalogueType(code=t.code, name_zh=t.name_zh, name_en=t.name_en)
            for t in catalogue.types
        ],
        measures=[
            CatalogueMeasure(
                code=m.code,
                kind=m.kind,
                type=m.type,
                title_zh=m.title_zh,
                title_en=m.title_en,
                targets=[_target(t) for t in m.targets],
            )
            for m in catalogue.measures
        ],
    )


def _target(target: Target) -> CatalogueTarget:
    return CatalogueTarget(
        code=target.code,
        description_zh=target.description_zh,
        metric=target.metric,
        comparator=target.comparator,
        value=None if target.value is None else float(target.value),
        direction=target.direction,
    )
