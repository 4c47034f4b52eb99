-- Relay recovery: leadership fencing, parked events, and marks of what each batch left on the topic.
ALTER TABLE {schema}.relay_checkpoints ADD COLUMN IF NOT EXISTS leader_epoch bigint NOT NULL DEFAULT 0;

-- An event the broker refused for good (too large, invalid topic, policy): kept with its reason
-- instead of wedging the relay; published by hand once the cause is fixed.
CREATE TABLE IF NOT EXISTS {schema}.relay_parked (
    relay       text        NOT NULL,
    event_id    uuid        NOT NULL,
    position    bigint      NOT NULL,
    txid        xid8        NOT NULL,
    stream_id   text        NOT NULL,
    event_type  text        NOT NULL,
    topic       text        NOT NULL,
    reason      text        NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relay, event_id)
);

-- One row per (checkpointed batch, partition): the highest offset the batch's events got there,
-- the event at that offset, and the checkpoint before the batch. After a broker lost acknowledged
-- records, the relay rewinds to the earliest batch whose mark the topic no longer holds.
CREATE TABLE IF NOT EXISTS {schema}.relay_marks (
    relay           text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    last_offset     bigint      NOT NULL,
    last_event_id   uuid        NOT NULL,
    before_txid     xid8        NOT NULL,
    before_position bigint      NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relay, topic, partition, last_offset)
);
