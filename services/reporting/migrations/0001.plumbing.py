"""Shared plumbing tables: consumer offsets (exactly-once) and the transactional outbox."""
from yoyo import step

from careruntime.sql import PLUMBING_SQL

steps = [step(PLUMBING_SQL)]
