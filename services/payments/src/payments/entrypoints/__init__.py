"""Thin entry points of the payments service: long-running processes and the council CLI."""
