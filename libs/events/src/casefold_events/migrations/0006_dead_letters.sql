-- Dead letters Kafka refused for good (too large for the dead-letter topic, not authorised, no such topic): parked
-- here, in the consumer's own database, so the partition moves on and nothing is dropped (see consumer.py).
CREATE TABLE IF NOT EXISTS dead_letters (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer         text        NOT NULL,
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    target_topic     text        NOT NULL,
    message_key      bytea,
    value            bytea,
    header_names     text[]      NOT NULL,
    header_values    bytea[]     NOT NULL,
    error            text        NOT NULL,
    refused_by_kafka text        NOT NULL,
    parked_at        timestamptz NOT NULL DEFAULT now(),
    -- A redelivery of a message parked before its offset was committed parks nothing new.
    UNIQUE (consumer, source_topic, source_partition, source_offset)
);
