"""Wire contracts shared by every service: envelope, events, commands and their registry.

- `envelope`: the CloudEvents 1.0 envelope every message travels in.
- `common`: shared field types (pence, dates, ids), enumerations and the Event/Command base classes.
- `allocation_events`, `allocation_commands`, `payments_events`, `payments_commands`, `invoice_events`,
  `invoice_commands`, `ledger_events`: one pydantic model per type, `TYPE` = "<family>.<Name>.v1".
- `registry`: type name -> model, event/command sets, `make_envelope`, `parse_payload`.
- `topics`: topic names, which type goes where, message keys, dead-letter conventions.
- `reasons`: the reason codes in use; `examples`: one valid example per type.
- `export` (`python -m careschemas.export [--check]`): JSON Schema files, AsyncAPI document, docs/events.md.
"""
