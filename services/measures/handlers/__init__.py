"""Handlers of the measures service. Each runs inside the caller's transaction, so the stored
state, the journal and the events staged in the outbox commit or roll back together.

- reference: seed, import_units, import_catalogue, put_calendar
- assignments: create_assignment, create_obligations
- intake: report_progress (HTTP and the NATS intake consumer), reject
- review: review_report, request_change, decide_change, record_achievement
- watcher: sweep (the periodic deadline watcher)
"""
