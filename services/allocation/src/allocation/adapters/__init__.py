"""Adapters: the wire (envelopes, ids, hashes), the asyncpg repository and the state codec."""
