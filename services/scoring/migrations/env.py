from services.runtime.migrations import run_migrations
from services.scoring.adapters.tables import metadata

run_migrations(metadata)
