from services.inspections.adapters.tables import InspectionsTable
from services.runtime.migrations import run_migrations

run_migrations(InspectionsTable.metadata)
