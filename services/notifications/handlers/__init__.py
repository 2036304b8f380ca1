"""Handlers of the notifications service. Each runs inside the caller's transaction (a consumer's
batch, an HTTP request, a periodic job's step); every write is keyed deterministically, so a fact
handled twice changes nothing the second time.

- common: Context (templates, clock, calendar, ladder policy) and the batch handler's shape
- fanout: notify (store, route, deliver), informing (a fact to a notification)
- units: register_units (the unit replica)
- ladder: open_case, raise_level, climb_if_due, settle, mark_message
- digest: send_digest
"""
