from services.runtime.migrations import run_migrations
from services.scoring.adapters.tables import ScoringTable

run_migrations(ScoringTable.metadata)
