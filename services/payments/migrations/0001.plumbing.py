"""Shared plumbing tables: consumer offsets (exactly-once) and the transactional outbox."""
from careruntime.sql import PLUMBING_ROLLBACK_SQL, PLUMBING_SQL
from yoyo import step

steps = [step(PLUMBING_SQL, PLUMBING_ROLLBACK_SQL)]
