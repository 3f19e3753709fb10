"""Pure, synchronous allocation domain: budget and provider aggregates, council policy, one decision
function per command, and how events change state. No I/O.

The commands and events are the wire contracts' own models (careschemas): frozen, validated value
objects. Re-declaring fifteen of each as dataclasses would add a mapping layer and no safety.
"""
