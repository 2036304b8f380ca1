from services.measures.adapters.tables import MeasuresTable
from services.runtime.migrations import run_migrations

run_migrations(MeasuresTable.metadata)
