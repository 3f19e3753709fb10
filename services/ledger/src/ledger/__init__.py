"""The ledger service: the only writer of the append-only, hash-chained journal."""
from . import native

native.install()  # before anything imports ledger.domain: compiled modules only when built from this source
