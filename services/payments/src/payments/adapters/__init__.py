"""Adapters of the payments service: wire mapping, PostgreSQL access, bank files."""
