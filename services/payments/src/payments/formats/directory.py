"""Contract placeholder: implementation in progress (brief P1)."""

from payments.formats.model import PayeeAccount


class BankDirectory:
    def __init__(self, accounts: dict[str, PayeeAccount]) -> None:
        self._accounts = dict(accounts)

    @classmethod
    def from_csv_text(cls, text: str) -> "BankDirectory":
        raise NotImplementedError

    def resolve(self, account_ref: str) -> PayeeAccount:
        raise NotImplementedError
