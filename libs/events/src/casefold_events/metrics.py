"""Prometheus metrics of the event machinery (store, relay, consumers); exposed by the platform's /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

# Metric objects hold no connections, so module-level definitions are fine; defining them once (here) is what keeps
# repeated create_app() calls in tests from registering duplicates.

EVENTS_APPENDED = Counter("casefold_events_appended_total", "Events appended to the event store.", ["event_type"])
OUTBOX_BACKLOG = Gauge("casefold_outbox_backlog", "Outbox rows not yet published to Kafka.")
RELAY_LAG_SECONDS = Gauge(
    "casefold_relay_lag_seconds", "Age of the oldest outbox row not yet published (0 when the outbox is empty)."
)
CONSUMER_LAG = Gauge(
    "casefold_consumer_lag", "Messages behind the partition's end offset.", ["consumer", "topic", "partition"]
)
DEAD_LETTERS = Counter("casefold_dead_letters_total", "Events moved to a dead-letter topic.", ["consumer"])
DEAD_LETTERS_PARKED = Counter(
    "casefold_dead_letters_parked_total",
    "Dead letters Kafka refused for good (size, authorisation, topic), kept in the dead_letters table instead.",
    ["consumer"],
)
LOOP_DEATHS = Counter(
    "casefold_loop_deaths_total", "Background loops (relay, consumer, delivery) that ended on an error.", ["loop"]
)
LOOP_UP = Gauge("casefold_loop_up", "1 while the background loop runs, 0 once it stopped or died.", ["loop"])
