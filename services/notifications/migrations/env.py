from services.notifications.adapters.tables import NotificationsTable
from services.runtime.migrations import run_migrations

run_migrations(NotificationsTable.metadata)
