"""Use cases of the reporting service: projecting batches, rebuilding from the journal or the topics, the audit pack."""
