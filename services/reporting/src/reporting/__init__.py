"""The reporting service: projections of the ledger and domain topics, replay and rebuild, and the audit reports."""
