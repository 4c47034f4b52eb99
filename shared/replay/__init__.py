"""Replay: rebuild a service's projections from its event store (or from the Kafka topics) into
a fresh schema, and compare them with the live ones (`qyzmet replay`)."""
