"""Parse ISO 20022 camt.053 statements and camt.054 debit/credit notifications into Statement.

Only the official namespaces are accepted (camt.053.001.02 to .13, camt.054.001.02 to .13), read
with lxml's hardened parser (no entities, no network). Each booked entry becomes one
StatementEntry per transaction: an entry that batches several transactions (NtryDtls/TxDtls)
is split, each with its own amount, and the parts must add up to the entry. Anything malformed,
of an unknown type or missing a field we rely on raises StatementError with a code; lxml or
decimal errors never escape.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime

from lxml import etree

from payments.formats.errors import StatementError
from payments.formats.model import Statement, StatementEntry

MALFORMED_XML = "malformed_xml"
UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
MISSING_FIELD = "missing_field"
INVALID_AMOUNT = "invalid_amount"
INVALID_DATE = "invalid_date"
INVALID_INDICATOR = "invalid_credit_debit_indicator"
SPLIT_MISMATCH = "transactions_do_not_add_up"
NOT_ONE_STATEMENT = "not_one_statement"
FIELD_TOO_LONG = "field_too_long"

# ISO 20022 Max35Text: the longest return reason (a proprietary one; a code is at most 4 characters).
MAX_REASON_LENGTH = 35

# A return that the bank flags only by its transaction code (PMNT/ICDT/RRTN) and not with RtrInf.
UNSPECIFIED_RETURN_REASON = "UNSPECIFIED"
NOT_PROVIDED = "NOTPROVIDED"

_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(0[2-9]|1[0-3])$")
_CONTAINERS = {"camt.053": ("BkToCstmrStmt", "Stmt"), "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_AMOUNT = re.compile(r"^(\d{1,16})(?:\.(\d{1,2}))?$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_camt(data: bytes) -> Statement:
    """The single statement (or notification) in a camt.053/054 document."""
    statements = parse_camt_all(data)
    if len(statements) != 1:
        raise StatementError(NOT_ONE_STATEMENT, f"expected one statement, found {len(statements)}; use parse_camt_all")
    return statements[0]


def parse_camt_all(data: bytes) -> tuple[Statement, ...]:
    """Every statement (camt.053 Stmt) or notification (camt.054 Ntfctn) in the document."""
    root = _parse_xml(data)
    namespace = etree.QName(root).namespace or ""
    match = _NAMESPACE.match(namespace)
    if etree.QName(root).localname != "Document" or match is None:
        raise StatementError(UNKNOWN_MESSAGE_TYPE, f"not a camt.053/054 document: {root.tag!r}")
    message_type = match.group(1)
    reader = _Reader(namespace)
    container_name, item_name = _CONTAINERS[message_type]
    container = reader.first(root, container_name)
    if container is None:
        raise StatementError(MISSING_FIELD, f"{message_type} document has no {container_name}")
    items = reader.all(container, item_name)
    if not items:
        raise StatementError(MISSING_FIELD, f"{container_name} has no {item_name}")
    return tuple(_statement(reader, item, message_type) for item in items)


def _parse_xml(data: bytes) -> etree._Element:
    if not isinstance(data, bytes | bytearray) or not data.strip():
        raise StatementError(MALFORMED_XML, "statement file is empty or not bytes")
    try:
        return etree.fromstring(bytes(data), parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise StatementError(MALFORMED_XML, f"not well-formed XML: {error}") from None


class _Reader:
    """Element look-ups within one document's namespace.

    `children` indexes an element's direct children by local name in one pass (entries and their
    transactions are read field by field, so this beats one find() per field several times over
    on a 100,000-entry statement); `first` walks a short path ("Rsn/Cd") step by step.
    """

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self._cut = len(namespace) + 2
        self._paths: dict[str, tuple[str, ...]] = {}

    def children(self, node: etree._Element) -> dict[str, etree._Element]:
        cut = self._cut
        return {child.tag[cut:]: child for child in node.iterchildren(etree.Element)}

    def first(self, node: etree._Element | None, path: str) -> etree._Element | None:
        for tag in self._qualified(path):
            if node is None:
                return None
            node = next(node.iterchildren(tag), None)
        return node

    def all(self, node: etree._Element | None, name: str) -> list[etree._Element]:
        return [] if node is None else list(node.iterchildren(self._qualified(name)[0]))

    def text(self, node: etree._Element | None, path: str = "") -> str | None:
        found = self.first(node, path) if path else node
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def _qualified(self, path: str) -> tuple[str, ...]:
        qualified = self._paths.get(path)
        if qualified is None:
            qualified = tuple(f"{{{self._namespace}}}{step}" for step in path.split("/"))
            self._paths[path] = qualified
        return qualified


def _required(fields: dict[str, etree._Element], name: str, where: str) -> etree._Element:
    found = fields.get(name)
    if found is None:
        raise StatementError(MISSING_FIELD, f"{where} has no {name}")
    return found


def _unique_ref(line: StatementEntry, seen_refs: set[str], position: int) -> StatementEntry:
    """The line with a reference no earlier line of the statement has: a repeated one gets "#position" (and
    a number more if that is taken too). Lines of a split entry are "ref/n", which another entry's own
    reference may be; the import derives each command's id from this reference, so it must be unique."""
    ref, extra = line.entry_ref, 1
    while ref in seen_refs:
        ref = f"{line.entry_ref}#{position}" + (f".{extra}" if extra > 1 else "")
        extra += 1
    seen_refs.add(ref)
    return line if ref == line.entry_ref else replace(line, entry_ref=ref)


def _statement(reader: _Reader, item: etree._Element, message_type: str) -> Statement:
    header = reader.children(item)
    statement_id = reader.text(header.get("Id"))
    if statement_id is None:
        raise StatementError(MISSING_FIELD, f"{message_type} {etree.QName(item).localname} has no Id")
    account = header.get("Acct")
    entries: list[StatementEntry] = []
    seen_refs: set[str] = set()
    for position, entry in enumerate(reader.all(item, "Ntry"), start=1):
        fields = reader.children(entry)
        bank_reference = reader.text(fields.get("AcctSvcrRef"))
        entry_ref = bank_reference or reader.text(fields.get("NtryRef")) or f"{statement_id}/{position}"
        for line in _entry_lines(reader, fields, entry_ref, bank_reference):
            entries.append(_unique_ref(line, seen_refs, position))
    return Statement(
        statement_id=statement_id,
        account_iban=reader.text(account, "Id/IBAN"),
        entries=tuple(entries),
        message_type=message_type,
        account_number=reader.text(account, "Id/Othr/Id"),
    )


def _entry_lines(
    reader: _Reader, fields: dict[str, etree._Element], entry_ref: str, bank_reference: str | None
) -> list[StatementEntry]:
    where = f"entry {entry_ref}"
    amount, currency = _amount(_required(fields, "Amt", where))
    credit = _credit(reader.text(_required(fields, "CdtDbtInd", where)))
    status = _status(reader, fields.get("Sts"), where)
    booked_on = _booked_on(reader, fields, where)
    flagged_return = reader.text(fields.get("BkTxCd"), "Domn/Fmly/SubFmlyCd") == "RRTN"
    transactions = reader.all(fields.get("NtryDtls"), "TxDtls")
    if not transactions:
        reason = UNSPECIFIED_RETURN_REASON if flagged_return else None
        return [StatementEntry(entry_ref, None, amount, credit, booked_on, status, reason, currency, bank_reference)]
    lines = []
    for number, transaction in enumerate(transactions, start=1):
        tx = reader.children(transaction)
        line_amount = _transaction_amount(reader, tx, currency)
        if line_amount is None:
            if len(transactions) > 1:
                raise StatementError(MISSING_FIELD, f"{where} batches transactions without their amounts")
            line_amount = amount
        indicator = reader.text(tx.get("CdtDbtInd"))
        end_to_end_id = reader.text(tx.get("Refs"), "EndToEndId")
        return_info = tx.get("RtrInf")
        reason = reader.text(return_info, "Rsn/Cd") or reader.text(return_info, "Rsn/Prtry")
        if reason is None and (flagged_return or return_info is not None):
            reason = UNSPECIFIED_RETURN_REASON
        if reason is not None and len(reason) > MAX_REASON_LENGTH:
            raise StatementError(FIELD_TOO_LONG, f"{where}: return reason of {len(reason)} characters "
                                                 f"(ISO 20022 allows {MAX_REASON_LENGTH})")
        lines.append(
            StatementEntry(
                entry_ref=entry_ref if len(transactions) == 1 else f"{entry_ref}/{number}",
                end_to_end_id=None if end_to_end_id in (None, NOT_PROVIDED) else end_to_end_id,
                amount_pence=line_amount,
                credit=credit if indicator is None else _credit(indicator),
                booked_on=booked_on,
                status=status,
                return_reason=reason,
                currency=currency,
                bank_reference=bank_reference,
            )
        )
    signed_total = sum(line.amount_pence if line.credit == credit else -line.amount_pence for line in lines)
    if signed_total != amount:
        raise StatementError(SPLIT_MISMATCH, f"{where}: transactions total {signed_total}, entry says {amount}")
    return lines


def _transaction_amount(reader: _Reader, tx: dict[str, etree._Element], currency: str) -> int | None:
    # camt.053.001.02 carries it in AmtDtls/TxAmt/Amt; from .03 on also directly as TxDtls/Amt.
    node = tx.get("Amt")
    if node is None:
        node = reader.first(tx.get("AmtDtls"), "TxAmt/Amt")
    if node is None:
        return None
    pence, line_currency = _amount(node)
    if line_currency != currency:
        raise StatementError(INVALID_AMOUNT, f"transaction currency {line_currency} differs from entry {currency}")
    return pence


def _status(reader: _Reader, node: etree._Element | None, where: str) -> str:
    # camt.053.001.02 writes <Sts>BOOK</Sts>; later versions <Sts><Cd>BOOK</Cd></Sts>.
    status = reader.text(node, "Cd") or reader.text(node, "Prtry") or reader.text(node)
    if status is None:
        raise StatementError(MISSING_FIELD, f"{where} has no Sts")
    return status


def _amount(node: etree._Element) -> tuple[int, str]:
    text = (node.text or "").strip()
    currency = node.get("Ccy")
    match = _AMOUNT.match(text)
    if match is None or not currency:
        raise StatementError(
            INVALID_AMOUNT,
            f"amount {text!r} (currency {currency!r}) is not a non-negative amount with at most 2 decimals",
        )
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction), currency


def _credit(indicator: str | None) -> bool:
    if indicator == "CRDT":
        return True
    if indicator == "DBIT":
        return False
    raise StatementError(INVALID_INDICATOR, f"credit/debit indicator {indicator!r} is neither CRDT nor DBIT")


def _booked_on(reader: _Reader, fields: dict[str, etree._Element], where: str) -> date:
    booking, value = fields.get("BookgDt"), fields.get("ValDt")
    text = (
        reader.text(booking, "Dt")
        or reader.text(booking, "DtTm")
        or reader.text(value, "Dt")
        or reader.text(value, "DtTm")
    )
    if text is None:
        raise StatementError(MISSING_FIELD, f"{where} has neither a booking nor a value date")
    # ISODate is YYYY-MM-DD, ISODateTime YYYY-MM-DDThh:mm:ss with an optional fraction and offset; Python's
    # fromisoformat alone also takes 20261201 and 2026-W48-2, and text[:10] took any tail.
    try:
        if _ISO_DATE.match(text[:10]) and (len(text) == 10 or text[10] == "T"):
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise StatementError(INVALID_DATE, f"{where} has an invalid date {text!r}")
