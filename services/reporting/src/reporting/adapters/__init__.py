"""Adapters of the reporting service: wire-to-row mapping and the PostgreSQL projection store."""
