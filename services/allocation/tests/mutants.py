"""The mutants `mutation_matrix.py` runs: one deliberate break of one rule of issue 3 each, as exact text
edits of a file under `services/allocation/src/allocation` (or, for paths starting `careruntime/` or
`ledger/`, of those packages), each `old` occurring exactly once.

Ids follow docs/allocation-test-matrix.md: C = a command (Build 1), O = outcomes, R1..R5 = the five
rules (Build 2), I = idempotency (Build 3), P = council policy (Build 4), V = the faust view (Build 6),
B = bad input, X = crash and restart.
"""
from __future__ import annotations

from dataclasses import dataclass

UNIT = ("services/allocation/tests",)
FLOW = ("tests/integration/test_allocation_flow.py",)
BAD = ("tests/integration/test_allocation_bad_input.py",)
VIEWS = ("tests/integration/test_allocation_views.py", "tests/integration/test_allocation_views_rebalance.py")
CRASH = ("tests/integration/test_allocation_crash.py",)
LEDGER = ("tests/integration/test_commands_to_ledger.py",)

B, O, C, M, E, P, W = ("domain/budgets.py", "domain/orders.py", "domain/checks.py", "domain/model.py",
                       "domain/evolve.py", "domain/policy.py", "adapters/wire.py")


@dataclass(frozen=True)
class Mutant:
    id: str
    rule: str
    what: str
    edits: tuple[tuple[str, str, str], ...]  # (file, old, new)
    tests: tuple[str, ...] = UNIT


def m(id: str, rule: str, what: str, path: str, old: str, new: str, tests: tuple[str, ...] = UNIT) -> Mutant:
    return Mutant(id, rule, what, ((path, old, new),), tests)


MUTANTS: list[Mutant] = [
    # -- Build 1: every command leads to its event(s) and changes state as it says -----------------------
    m("C1", "CalculateIndicativeBudget", "emits nothing", B,
      "    return [accepted(cmd)]\n\n\ndef agree_personal_budget", "    return []\n\n\ndef agree_personal_budget"),
    m("C2", "AgreePersonalBudget keeps indicative and agreed", "indicative amount not carried", B,
      "return [accepted(cmd, indicative_pence=indicative)]", "return [accepted(cmd)]"),
    m("C3", "RevisePersonalBudget", "revision not applied to state", E,
      "    b.amount_pence = e.amount_pence\n", "    pass\n"),
    m("C4", "EndPersonalBudget", "no PersonalBudgetEnded", B, "            accepted(cmd)]", "            ]"),
    m("C5", "AgreeFundingSplit", "checks the old split instead of the new", B,
      "icb=cmd.icb_pence, pooled=cmd.pooled_pence", "icb=b.icb_pence, pooled=b.pooled_pence"),
    m("C6", "AssessContribution (netted or gross)", "mode not applied to state", E,
      "b.contribution_weekly_pence, b.contribution_mode = e.weekly_pence, e.mode.value",
      "b.contribution_weekly_pence, b.contribution_mode = e.weekly_pence, 'netted'"),
    m("C7", "AllocateDeliveryRoute: ISF/managed account name a holder", "holder never required", B,
      "cmd.holder_ref is None", "False"),
    m("C8", "RegisterProvider once", "re-registration accepted", "domain/providers.py",
      "    if provider is not None:", "    if False:"),
    m("C9", "ChangeProviderBankDetails records who verified", "verifier not kept in state", E,
      "        provider.verified_by = event.verified_by\n", ""),
    m("C10", "ChangeProviderBankDetails refuses no-op", "same account accepted", "domain/providers.py",
      "    if provider.account_ref == cmd.account_ref:", "    if False:"),
    m("C11", "CommissionServiceOrder: rate, unit, units, basis", "payment basis not kept", E,
      "e.payment_basis.value, e.start_date", "'planned', e.start_date"),
    m("C12", "VaryServiceOrder re-prices from the effective date", "re-prices from the order's start", M,
      "pivot = max(self.segment_start, min(effective, end + ONE_DAY))", "pivot = self.segment_start"),
    m("C13", "EndServiceOrder releases the rest", "end date ignored", E,
      "end = min(e.end_date, order.end_date)", "end = order.end_date"),
    m("C13b", "EndPersonalBudget cuts the budget's end", "end date not applied", E,
      "    b.end_date = min(b.end_date, e.end_date) if b.end_date else e.end_date\n", ""),
    m("C14", "RecordDeath", "death not applied to state", E, "    b.died_on = e.date_of_death\n", "    pass\n"),
    m("C15", "AuthoriseOverspend up to a limit", "limit not applied to state", E,
      "e.limit_pence, e.authoriser", "0, e.authoriser"),
    m("C16", "AuthoriseOverspend by a named authoriser", "authoriser not kept in state", E,
      "e.limit_pence, e.authoriser", "e.limit_pence, None"),
    # -- Build 2: outcomes ---------------------------------------------------------------------------------
    m("O1", "a rejection names the command id", "names the subject instead", W,
      "CommandRejected(command_id=command.id,", "CommandRejected(command_id=command.subject,"),
    m("O2", "a rejection carries its reason code", "one generic code", W,
      "reason_code=rejection.code", "reason_code='REJECTED'"),
    m("O3", "a rejection is published (integration)", "rejections not written to the outbox",
      "service/process.py", "return Outcome(item, REJECTED, ((wire.event_ids(env.id, 1)[0], event),), decision)",
      "return Outcome(item, REJECTED, (), decision)", FLOW),
    # R1: PB = shares + contribution
    m("R1.1", "PB = shares + contribution", "pooled share ignored", C,
      "others = icb + pooled + weekly_contribution", "others = icb + weekly_contribution"),
    m("R1.2", "PB = shares + contribution", "exactly-at-limit refused (> to >=)", C,
      "    if others > amount:", "    if others >= amount:"),
    m("R1.3", "PB = shares + contribution", "contribution counted 51 weeks", M,
      "WEEKS_PER_YEAR = 52", "WEEKS_PER_YEAR = 51"),
    m("R1.4", "PB = shares + contribution", "revision skips the split check", B,
      "refused = (split_fits(amount=amount,", "refused = (None and split_fits(amount=amount,"),
    m("R1.5", "PB = shares + contribution", "council share ignores the contribution", M,
      "- self.pooled_pence - self.contribution_annual_pence", "- self.pooled_pence"),
    # R2: routes within PB
    m("R2.1", "route allocations <= PB", "exactly-at-limit refused (> to >=)", C,
      "    if routes_total > amount:", "    if routes_total >= amount:"),
    m("R2.2", "route allocations <= PB", "a route's old amount not replaced", B,
      "- (current.amount_pence if current else 0)", "- 0"),
    m("R2.3", "route allocations <= PB", "revision skips the routes check", B,
      "or routes_fit(amount=amount, routes_total=b.routes_total_pence)", "or None"),
    m("R2.4", "route allocations <= PB", "a zero amount does not remove the route", E,
      "    if e.amount_pence == 0:", "    if False:"),
    # R3: commitments within PB unless authorised
    m("R3.1", "commitments <= PB unless authorised", "exactly-at-limit refused (> to >=)", C,
      "if committed > ceiling and", "if committed >= ceiling and"),
    m("R3.2", "commitments <= PB unless authorised", "a raise over the ceiling passes once over it", C,
      "(before is None or committed > before)", "before is None"),
    m("R3.3", "commitments <= PB unless authorised", "authorised overspend ignored", M,
      "return self.amount_pence + self.overspend_limit_pence", "return self.amount_pence"),
    m("R3.4", "commitments <= PB unless authorised", "only the new order counted", O,
      "committed=b.committed_pence + order.commitment", "committed=order.commitment"),
    m("R3.5", "commitments <= PB unless authorised", "formula divides by 6", M,
      "rate * units_per_week * days // 7 if", "rate * units_per_week * days // 6 if"),
    m("R3.6", "commitments <= PB unless authorised", "end day not counted", M,
      "days = (end - start).days + 1", "days = (end - start).days"),
    m("R3.7", "commitments <= PB unless authorised", "negative spans not floored at 0", M,
      "days // 7 if days > 0 else 0", "days // 7"),
    m("R3.8", "commitments <= PB unless authorised", "a new limit checked against the old one", B,
      "ceiling=b.amount_pence + cmd.limit_pence", "ceiling=b.amount_pence + b.overspend_limit_pence"),
    m("R3.9", "commitments <= PB unless authorised", "revision ignores the authorised overspend", B,
      "ceiling=amount + b.overspend_limit_pence", "ceiling=amount"),
    m("R3.10", "commitments <= PB unless authorised", "variation skips the check", O,
      "refused = commitments_fit(b, committed=before", "refused = None and commitments_fit(b, committed=before"),
    # R4: no service order outside the budget's dates (and a registered provider, a unique id)
    m("R4.1", "no order outside the budget's dates", "start before the budget allowed", O,
      "if cmd.start_date < b.start_date or cmd.end_date > b.end_date:", "if cmd.end_date > b.end_date:"),
    m("R4.2", "no order outside the budget's dates", "end after the budget allowed", O,
      "if cmd.start_date < b.start_date or cmd.end_date > b.end_date:", "if cmd.start_date < b.start_date:"),
    m("R4.3", "no order outside the budget's dates", "variation may extend past the budget", O,
      "    if cmd.end_date > b.end_date:", "    if False:"),
    m("R4.4", "no order outside the budget's dates", "variation may end before the order starts", O,
      "    if cmd.end_date < order.start_date:", "    if False:"),
    m("R4.5", "order from a registered provider", "provider not checked", O,
      "    if cmd.provider_id not in ctx.providers:", "    if False:"),
    m("R4.6", "order id unique in the council", "only this budget's orders checked", O,
      "if cmd.order_id in b.orders or cmd.order_id in ctx.order_budgets:", "if cmd.order_id in b.orders:"),
    m("R4.7", "EndServiceOrder only shortens", "an end may lengthen the order", O,
      "    if cmd.end_date > order.end_date:", "    if False:"),
    m("R4.8", "EndPersonalBudget within the budget's dates", "any end date accepted", B,
      "    if not b.start_date <= cmd.end_date <= b.end_date:", "    if False:"),
    # R5: nothing after death or end except the closing commands
    m("R5.1", "no changes after death or end", "closed budgets stay open", C, "    if found.closed:", "    if False:"),
    m("R5.2", "no changes after death or end", "a death does not close the budget", M,
      "return self.ended_on is not None or self.died_on is not None", "return self.ended_on is not None"),
    m("R5.3", "no changes after death or end", "indicative recalculated after close", B,
      "    if budget is not None and budget.closed:", "    if False:"),
    m("R5.4", "closing: EndServiceOrder after death", "EndServiceOrder refused once closed", O,
      "agreed_budget(budget, cmd.budget_id)", "open_budget(budget, cmd.budget_id)"),
    m("R5.5", "closing: RecordDeath after end", "RecordDeath refused once ended", B,
      "        return b\n    if b.died_on is not None:", "        return b\n    if b.closed:"),
    m("R5.6", "closing: EndPersonalBudget after death", "EndPersonalBudget refused after death", B,
      "    if b.ended_on is not None:\n        return closed(b)", "    if b.closed:\n        return closed(b)"),
    m("R5.7", "death ends the orders running past it", "orders left running", B,
      ", *_end_orders_after(b, cmd.date_of_death, \"Person died\", cmd.effective_date)]", "]"),
    m("R5.8", "end ends the orders running past it", "orders left running (cut at the budget's own end)", B,
      "    return [*_end_orders_after(b, cmd.end_date,", "    return [*_end_orders_after(b, b.end_date,"),
    m("R5.9", "death/end also end again an ended order running past it", "ended orders left alone", B,
      "if o.status in (\"active\", \"ended\") and o.end_date > last_day]",
      "if o.status == \"active\" and o.end_date > last_day]"),
    m("R5.10", "death recorded once", "second death accepted", B,
      "    if b.died_on is not None:\n        return Rejection(reasons.DEATH_ALREADY_RECORDED",
      "    if False:\n        return Rejection(reasons.DEATH_ALREADY_RECORDED"),
    m("R5.11", "the person must match", "person never compared", C,
      "if budget is not None and budget.person_ref and budget.person_ref != person_ref:", "if False:"),
    m("R5.12", "agreed once", "second agreement accepted", B,
      "    if budget is not None and budget.agreed:", "    if False:"),
    m("R5.13", "agreed vs indicative: calculated amount must match", "mismatch accepted", B,
      "cmd.indicative_pence != calculated:", "False:"),
    m("R5.14", "only an agreed budget is changed", "unagreed budgets accepted", C,
      "    if budget is None or not budget.agreed:", "    if budget is None:"),
    # -- Build 3: idempotency ----------------------------------------------------------------------------
    m("I1", "a resend gives the same outcome", "resends decided again", "service/process.py",
      "if item.content_hash == seen.content_hash or", "if"),
    m("I2", "a reused id with changed content is rejected", "conflicts treated as resends", "service/process.py",
      "        seen.conflicts.add(item.content_hash)\n", "        return Outcome(item, DUPLICATE)\n"),
    m("I3", "a resend of a conflict emits nothing", "each conflicting resend rejected again", "service/process.py",
      " or item.content_hash in seen.conflicts:", ":"),
    m("I4", "the hash covers what the command asks", "data left out of the hash", W,
      '"councilid": envelope.councilid, "data": envelope.data}', '"councilid": envelope.councilid}'),
    m("I5", "a rebuilt envelope is the same command", "time put in the hash", W,
      '"councilid": envelope.councilid, "data": envelope.data}',
      '"councilid": envelope.councilid, "data": envelope.data, "time": envelope.time.isoformat()}'),
    m("I6", "event ids derive from the command id", "ids numbered from 0", W,
      'return [f"{stem}.e{n}" for n in range(1, count + 1)]', 'return [f"{stem}.e{n}" for n in range(count)]'),
    m("I8", "councils never see each other's records", "another council told the first outcome",
      "service/process.py", "if seen.council == env.councilid else", "if True else"),
    m("I7", "earlier batches' outcomes are loaded (integration)", "processed_commands not read",
      "adapters/repository.py", "WHERE command_id = ANY($1::text[])\", sorted({i.envelope.id for i in items})",
      "WHERE false AND command_id = ANY($1::text[])\", sorted({i.envelope.id for i in items})", FLOW),
    # -- Build 4: per-council settings as data -------------------------------------------------------------
    m("P1", "variance tolerance", "tolerance ignored", P,
      "return abs(agreed - indicative) * 10_000 > indicative * self.variance_tolerance_bp",
      "return abs(agreed - indicative) * 10_000 > 0"),
    m("P2", "variance tolerance", "exactly-at-tolerance refused (> to >=)", P,
      "return abs(agreed - indicative) * 10_000 > indicative", "return abs(agreed - indicative) * 10_000 >= indicative"),
    m("P3", "contribution modes", "any mode allowed", B,
      "    if cmd.mode.value not in ctx.policy.allowed_contribution_modes:", "    if False:"),
    m("P4", "unknown settings refused", "unknown keys ignored", P,
      "        if unknown:\n", "        if False:\n"),
    m("P5", "payment frequency 1..52", "range not checked", P,
      "        if not 1 <= self.payment_frequency_weeks <= 52:", "        if False:"),
    m("P6", "each council's policy read from PostgreSQL (integration)", "stored policy not loaded",
      "adapters/repository.py", "            loaded.policies[r[\"council_id\"]] = ", "            _ = ", FLOW),
    # -- Build 6: the faust view ------------------------------------------------------------------------------
    m("V1", "view repeats counted once", "event ids not remembered", "entrypoints/views.py",
      "    if current is not None and event_id in current[\"seen\"]:", "    if False:"),
    Mutant("V2", "view state survives restart and rebalance (integration)",
           "the table's values kept in process memory instead (routing and recovery unchanged)",
           (("entrypoints/views.py", "    summaries = app.Table(",
             "    summaries = {}\n    table = app.Table("),
            ("entrypoints/views.py", "(table=summaries, match_info", "(table=table, match_info"),
            ("entrypoints/views.py", "changelog = summaries.changelog_topic", "changelog = table.changelog_topic")),
           VIEWS),
    m("V3", "view requests reach the worker that owns the budget (integration)", "table keys JSON-encoded",
      "entrypoints/views.py", "partitions=settings.views_partitions, key_type=bytes)",
      "partitions=settings.views_partitions)", VIEWS),
    m("V4", "view requests reach the worker that owns the budget (integration)", "answered locally, never forwarded",
      "entrypoints/views.py", "        return await routed(view, request, council_id=council_id, budget_id=budget_id)",
      "        return await answer(view, request, council_id=council_id, budget_id=budget_id)", VIEWS),
    # -- bad input -----------------------------------------------------------------------------------------------
    m("B1", "foreign records dead-lettered (integration)", "foreign records dropped", "service/ingest.py",
      "                    dead.append(dlq_row(tp.topic, record, UNKNOWN_TYPE,", "                    (dlq_row(tp.topic, record, UNKNOWN_TYPE,",
      FLOW),
    m("B2", "unstorable commands dead-lettered (integration)", "storable check removed", "service/ingest.py",
      "                elif problem := unstorable(decoded.payload):", "                elif problem := None:", BAD),
    m("B3", "dates on the calendar's edge dead-lettered", "edge dates let through", "adapters/storable.py",
      "value in (date.min, date.max)", "value in ()"),
    m("B3i", "dates on the calendar's edge dead-lettered (integration)", "edge dates let through",
      "adapters/storable.py", "value in (date.min, date.max)", "value in ()", BAD),
    # -- crash and restart ---------------------------------------------------------------------------------------
    m("X1", "no lost or doubled outcome across a crash (integration)", "event ids differ on each decision", W,
      'return [f"{stem}.e{n}" for n in range(1, count + 1)]',
      'import uuid; return [f"{stem}.e{n}.{uuid.uuid4().hex[:6]}" for n in range(1, count + 1)]', CRASH),
    m("X2", "no lost or doubled outcome across a crash (integration)",
      "careruntime: the batch is not one transaction (each statement commits on its own)", "careruntime/consumer.py",
      "                async with self.pool.acquire() as conn:\n                    async with conn.transaction():",
      "                async with self.pool.acquire() as conn:\n                    if True:", CRASH),
    # -- Build 5: the ledger posts what allocation decided (a ledger mutant, in a copy) ---------------------------
    m("L1", "ServiceOrderEnded posted as the commitment after the end (integration)", "ledger ignores the end date",
      "ledger/domain/rules_allocation.py", "_recommit(book, ev, order.rate, order.units, min(p.end_date, order.end_date))",
      "_recommit(book, ev, order.rate, order.units, order.end_date)", LEDGER),
]
