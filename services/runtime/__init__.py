"""Plumbing every service shares and that knows nothing of the domain: settings, database,
bus, outbox, inbox, HTTP app, logging and metrics."""
