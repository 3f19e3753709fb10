"""Decisions about providers: registration and verified bank-detail changes."""
from __future__ import annotations

from careschemas import allocation_commands as cmds

from . import reasons
from .checks import Decision, accepted
from .model import Context, Provider, Rejection


def register_provider(provider: Provider | None, cmd: cmds.RegisterProvider, ctx: Context) -> Decision:
    if provider is not None:
        return Rejection(reasons.PROVIDER_ALREADY_REGISTERED,
                         f"provider {cmd.provider_id} is already registered as {provider.provider_type}")
    return [accepted(cmd)]


def change_provider_bank_details(provider: Provider | None, cmd: cmds.ChangeProviderBankDetails,
                                 ctx: Context) -> Decision:
    """Only a vault token travels (the schema refuses raw sort codes, account numbers and IBANs), and
    every change names who verified it (the schema requires `verified_by`)."""
    if provider is None:
        return Rejection(reasons.UNKNOWN_PROVIDER, f"no registered provider {cmd.provider_id} in this council")
    if provider.account_ref == cmd.account_ref:
        return Rejection(reasons.BANK_DETAILS_UNCHANGED,
                         f"provider {cmd.provider_id} already has account {cmd.account_ref}")
    return [accepted(cmd)]
