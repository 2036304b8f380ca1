"""Command and event handlers of the inspections service. Each runs inside the caller's
transaction, so the stored state, its journal entry and the events staged in the outbox commit
or roll back together."""
