"""Why a statement entry could not be matched to an instructed payment (Reconciliation.unmatched_reasons)."""

NOT_BOOKED = "not_booked"  # pending or information-only entry: not a settlement yet
NO_END_TO_END_ID = "no_end_to_end_id"  # the bank gave no EndToEndId (or NOTPROVIDED)
UNKNOWN_END_TO_END_ID = "unknown_end_to_end_id"  # not a payment this run instructed
AMOUNT_MISMATCH = "amount_mismatch"  # same payment, different amount: never settled silently
CURRENCY_MISMATCH = "currency_mismatch"
UNEXPECTED_CREDIT = "unexpected_credit"  # money in against one of our payments, without return information
UNEXPECTED_DEBIT_RETURN = "unexpected_debit_return"  # return information on money going out
DUPLICATE_SETTLEMENT = "duplicate_settlement"
DUPLICATE_RETURN = "duplicate_return"

ALL = (
    NOT_BOOKED,
    NO_END_TO_END_ID,
    UNKNOWN_END_TO_END_ID,
    AMOUNT_MISMATCH,
    CURRENCY_MISMATCH,
    UNEXPECTED_CREDIT,
    UNEXPECTED_DEBIT_RETURN,
    DUPLICATE_SETTLEMENT,
    DUPLICATE_RETURN,
)
