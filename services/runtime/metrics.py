"""Prometheus metrics shared by all services: one `fivetype_` prefix, base units in names,
bounded labels (service, consumer, message type, outcome; never ids or raw subjects)."""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # `_created` series double the scrape size and no dashboard reads them

HTTP_REQUESTS = Counter(
    "fivetype_http_requests_total",
    "HTTP requests handled.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "fivetype_http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route"],
)
MESSAGES = Counter(
    "fivetype_messages_processed_total",
    "Messages taken from the bus, by outcome (ok, duplicate, retried, dead_lettered).",
    ["service", "consumer", "type", "outcome"],
)
BATCH_DURATION = Histogram(
    "fivetype_message_batch_duration_seconds",
    "Time to process one pulled batch of messages.",
    ["service", "consumer"],
)
LAST_SUCCESS = Gauge(
    "fivetype_consumer_last_success_timestamp_seconds",
    "Unix time of the consumer's last successfully processed batch.",
    ["service", "consumer"],
)
DEAD_LETTERS = Counter(
    "fivetype_dead_letters_total",
    "Messages sent to the dead-letter stream.",
    ["service", "consumer", "reason"],
)
OUTBOX_PUBLISHED = Counter(
    "fivetype_outbox_published_total", "Outbox messages acknowledged by JetStream.", ["service"]
)
OUTBOX_BACKLOG = Gauge("fivetype_outbox_backlog", "Outbox messages not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "fivetype_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox message.",
    ["service"],
)
# Periodic tasks (deadline watchers, samplers). The label is `task`, not `job`, which Prometheus
# keeps for the scrape job.
TASK_LAST_SUCCESS = Gauge(
    "fivetype_task_last_success_timestamp_seconds",
    "Unix time of a periodic task's last successful run (e.g. the deadline watcher).",
    ["service", "task"],
)
TASK_FAILURES = Counter(
    "fivetype_task_failures_total", "Failed runs of a periodic task.", ["service", "task"]
)
TASK_DURATION = Histogram(
    "fivetype_task_duration_seconds", "Duration of one run of a periodic task.", ["service", "task"]
)
CONSUMER_PENDING = Gauge(
    "fivetype_consumer_pending_messages",
    "Messages in the stream not yet delivered to the durable consumer (its lag).",
    ["service", "consumer"],
)
CONSUMER_ACK_PENDING = Gauge(
    "fivetype_consumer_ack_pending_messages",
    "Messages delivered to the durable consumer and not yet acknowledged.",
    ["service", "consumer"],
)
REDELIVERED = Counter(
    "fivetype_messages_redelivered_total",
    "Messages received again after an earlier delivery was not acknowledged.",
    ["service", "consumer"],
)
DEAD_LETTER_DEPTH = Gauge(
    "fivetype_dead_letter_messages",
    "Messages kept in the dead-letter stream for the consumer.",
    ["service", "consumer"],
)
STREAM_MESSAGES = Gauge(
    "fivetype_jetstream_stream_messages",
    "Messages stored in a JetStream stream, as this service last read it.",
    ["service", "stream"],
)
STREAM_BYTES = Gauge(
    "fivetype_jetstream_stream_bytes",
    "Bytes stored in a JetStream stream, as this service last read it.",
    ["service", "stream"],
)
TASK_INTERVAL = Gauge(
    "fivetype_task_interval_seconds",
    "How often a periodic task is meant to run: the staleness alert compares against it.",
    ["service", "task"],
)
NATS_CONNECTED = Gauge(
    "fivetype_nats_connected",
    "1 while the service holds a connection to NATS; the outbox keeps events while it is 0.",
    ["service"],
)
OUTBOX_POLL_INTERVAL = Gauge(
    "fivetype_outbox_poll_interval_seconds",
    "How often the outbox relay looks for unpublished messages: the backlog alert's yardstick.",
    ["service"],
)
CATCH_UPS = Counter(
    "fivetype_consumer_catch_ups_total",
    "Times a consumer found its store behind what it had acknowledged (a restore, a rollback) "
    "and replayed the gap from the stream before resuming.",
    ["service", "consumer"],
)
CATCH_UP_MESSAGES = Counter(
    "fivetype_consumer_catch_up_messages_total",
    "Messages replayed from the stream by a catch-up, by outcome (recovered: the store lacked "
    "it; duplicate: it held it already; skipped: it breaks the contract, as when first seen).",
    ["service", "consumer", "outcome"],
)
