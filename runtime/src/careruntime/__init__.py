"""Runtime plumbing shared by the services: codec, consumer, outbox, relay, DLQ, logging, health."""
