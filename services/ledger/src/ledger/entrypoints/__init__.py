"""Entry points: worker, relay, verify, migrate (thin: build, run, exit)."""
