"""Adapters: wire mapping, asyncpg repository, outbox messages."""
