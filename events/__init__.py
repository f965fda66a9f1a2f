"""User events: protobuf codec, Kafka topics, producer, and the stream processor that stores them
in PostgreSQL exactly once in effect and tells the embedding service about them."""
