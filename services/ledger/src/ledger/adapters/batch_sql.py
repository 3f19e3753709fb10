"""The CPU-only half of the ledger's repository, compiled with the decision code (ledger.native).

What a batch's look-ups ask for (`lookups`) and the SQL text of its upserts of balances, shard heads and
working state with their values written in (`batch_statements`), sent as one simple-query message
(`sqltext`). `Stored` is what the worker knows has a row, which picks INSERT or upsert per row.
`repository` does the I/O. Per batch this is a loop over every account, state row and reference the
batch touches: as interpreted Python it was ~7% of the worker's CPU (docs/performance.md, "Eleventh
pass").
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import accounts as acct
from ..domain.model import Book
from . import array_literal, sqltext, state_codec
from .snapshot import BatchRows

# which payload reference fills which part of the book
REF_KINDS: dict[str, str] = {"budget_id": "budgets", "order_id": "orders", "schedule_id": "schedules",
                             "payment_id": "holds", "recovery_id": "recoveries"}

UPSERT_HEADS = """
INSERT INTO shard_heads (shard, shard_seq, hash)
SELECT * FROM unnest($1::text::text[], $2::text::bigint[], $3::text::text[])
ON CONFLICT (shard) DO UPDATE SET shard_seq = EXCLUDED.shard_seq, hash = EXCLUDED.hash"""

INSERT_STATE = """
INSERT INTO ledger_state (kind, key, council_id, data)
SELECT * FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], string_to_array($4::text, E'\\x1e'))"""
UPSERT_STATE = INSERT_STATE + "\nON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data"

# Accounts known to have a row (migration 0010): a plain UPDATE, and an error if any is missing.
ADD_TO_STORED_BALANCES = "SELECT ledger_add_to_balances($1::text::text[], $2::text::bigint[])"

# council_id, kind and owner_ref are split from the account id in SQL, as accounts.parse splits it:
# elements 1, 2 and 3 of its "/"-separated parts (the owner NULL when there is no third part).
INSERT_BALANCES = """
INSERT INTO accounts (account, council_id, kind, owner_ref, balance_pence)
SELECT u.account, s.parts[1], s.parts[2], s.parts[3], u.delta
  FROM unnest($1::text::text[], $2::text::bigint[]) AS u(account, delta),
       LATERAL (SELECT string_to_array(u.account, '/') AS parts) AS s"""
ADD_TO_BALANCES = INSERT_BALANCES + """
ON CONFLICT (account) DO UPDATE SET balance_pence = accounts.balance_pence + EXCLUDED.balance_pence"""


@dataclass
class Stored:
    """What the worker knows has a row in the database once the batches it decided so far commit: what
    `load_slice` read, and what those batches wrote. Dropped with the book (on any batch not committed),
    so it never runs ahead of the database.

    Balances of stored accounts take a plain UPDATE (`ledger_add_to_balances`, which fails the batch if
    one is missing). An account not stored whose owner is in `owners` (`load_slice` read every account
    of that owner) is new, and goes by plain INSERT; any other account by the upsert. Working state not
    stored is new: every key the rules create is one the batch refers to, which `load_slice` looked up
    first, so it goes by plain INSERT; stored state is upserted. A row taken for new that did exist
    fails the batch with a unique violation, and the retry reads it from the database.
    """

    accounts: set[str] = field(default_factory=set)
    state: set[tuple[str, str]] = field(default_factory=set)  # (kind, key)
    owners: set[str] = field(default_factory=set)  # owner refs whose accounts were all read

    def record(self, rows: BatchRows) -> None:
        """`rows` will be written (or the batch fails and this record is dropped with the book)."""
        self.accounts.update(rows.deltas)
        kinds, keys = rows.state[0], rows.state[1]
        self.state.update(zip(kinds, keys))


def lookups(book: Book, refs: dict[str, set[str]], stored: Stored) -> tuple[list[str], list[str], set[str]]:
    """What the book lacks of what a batch refers to: working state as (kinds, keys), and the owners
    whose accounts have not all been read yet."""
    # set.difference with a dict or set argument probes it with the hashes the set already holds, in C
    nothing: set[str] = set()
    kinds: list[str] = []
    keys: list[str] = []
    for ref, kind in REF_KINDS.items():
        wanted = refs.get(ref, nothing).difference(state_codec.container(book, kind))
        kinds += [kind] * len(wanted)
        keys += wanted
    invoice_keys = refs.get("invoice_key", nothing).difference(book.invoices)
    kinds += ["invoices"] * len(invoice_keys)
    keys += invoice_keys
    owners = (refs.get("budget_id", nothing) | refs.get("provider_id", nothing)).difference(stored.owners)
    return kinds, keys, owners


def batch_statements(rows: BatchRows, stored: Stored | None) -> str:
    """The upserts of a batch's balances, shard heads and working state as one SQL text ("" when none).

    What `stored` holds is updated in place and the rest inserted (`Stored`); with no `stored`, every
    balance and state row goes by upsert."""
    statements = balance_statements(rows.deltas, stored if stored is not None else Stored())
    if rows.heads:
        shards = [head[0] for head in rows.heads]
        seqs = [head[1] for head in rows.heads]
        hashes = [head[2] for head in rows.heads]
        statements.append(sqltext.bind(UPSERT_HEADS, (
            array_literal.text_array(shards), array_literal.int_array(seqs), array_literal.text_array(hashes))))
    statements += state_statements(rows.state, stored.state if stored is not None else None)
    return ";\n".join(statements)


def balance_statements(deltas: dict[str, int], stored: Stored) -> list[str]:
    """Movements of stored accounts by `ledger_add_to_balances`, of accounts known to be new by INSERT,
    of the rest by the upsert that creates them (`Stored`)."""
    names = sorted(deltas)  # a fixed lock order, so concurrent writers cannot deadlock
    known: list[str] = []
    new: list[str] = []
    other: list[str] = []
    stored_accounts, owners = stored.accounts, stored.owners
    for name in names:
        if name in stored_accounts:
            known.append(name)
        elif acct.parse(name)[2] in owners:
            new.append(name)
        else:
            other.append(name)
    statements: list[str] = []
    for sql, accounts in ((ADD_TO_STORED_BALANCES, known), (INSERT_BALANCES, new), (ADD_TO_BALANCES, other)):
        if accounts:
            statements.append(sqltext.bind(sql, (array_literal.text_array(accounts),
                                                 array_literal.int_array([deltas[a] for a in accounts]))))
    return statements


def state_statements(state: tuple[list, list, list, list], stored: set[tuple[str, str]] | None) -> list[str]:
    """Stored working state by upsert, the rest by plain INSERT (everything by upsert when `stored` is None)."""
    kinds, keys, councils, data = state
    upsert: list[int] = []
    insert: list[int] = []
    for n in range(len(kinds)):
        if stored is None or (kinds[n], keys[n]) in stored:
            upsert.append(n)
        else:
            insert.append(n)
    statements: list[str] = []
    for sql, picked in ((UPSERT_STATE, upsert), (INSERT_STATE, insert)):
        if picked:
            statements.append(sqltext.bind(sql, (
                array_literal.text_array([kinds[n] for n in picked]), array_literal.text_array([keys[n] for n in picked]),
                array_literal.text_array([councils[n] for n in picked]), separated([data[n] for n in picked]))))
    return statements


# JSON text never holds a raw control character (they are escaped inside strings), so the state objects'
# JSON texts go as one text, split by PostgreSQL at ASCII record separators: no quoting or escaping on
# either side, which an array literal of JSON (every quote escaped) needs.
RS = "\x1e"


def separated(texts: list[str]) -> str:
    joined = RS.join(texts)
    if joined.count(RS) != len(texts) - 1:
        raise ValueError("a working-state JSON text holds an ASCII record separator (JSON escapes it)")
    return joined
