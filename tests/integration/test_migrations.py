"""Every service's migrations apply to an empty database, and roll back to nothing, on SQLite
and PostgreSQL; the migrated schema matches the service's table definitions."""

import importlib

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from fivetype.stack import SERVICES
from services.runtime import audit, messaging
from services.runtime.db import migrate, sync_url
from tests.conftest import Databases


@pytest.mark.parametrize("service", list(SERVICES))
def test_upgrade_matches_models_and_downgrades(service: str, databases: Databases) -> None:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    tables = importlib.import_module(f"services.{service}.adapters.tables")
    metadata = next(
        value.metadata
        for name, value in vars(tables).items()
        if name.endswith("Table") and hasattr(value, "metadata")
    )
    url = databases.url(service)
    migrate(url, bootstrap.MIGRATIONS)
    engine = sa.create_engine(sync_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"target_metadata": [metadata, messaging.metadata, audit.metadata]}
        )
        assert compare_metadata(context, context.opts["target_metadata"]) == []

    config = Config()
    config.set_main_option("script_location", str(bootstrap.MIGRATIONS))
    config.attributes["url"] = sync_url(url)
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
