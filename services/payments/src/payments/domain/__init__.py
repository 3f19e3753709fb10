"""The payments domain: pure, synchronous rules of schedules, invoices, runs and surplus recovery (no I/O)."""
