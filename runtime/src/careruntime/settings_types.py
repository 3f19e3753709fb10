"""Field types of the services' Settings (pydantic-settings, from the environment), so a value that cannot
work is refused when the process starts, naming the variable (careruntime.cli_args.settings_or_exit), rather
than failing later or quietly doing something else: a zero batch size fails aiokafka's getmany on the first
fetch, a NaN patience is never over (`now - since >= nan` is False), a negative count holds nothing back."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

Count = Annotated[int, Field(ge=1, le=2**31 - 1)]
"""A size or count of at least one (records per batch, pool connections, ids remembered)."""
ZeroOrMore = Annotated[int, Field(ge=0, le=2**31 - 1)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A finite, non-negative duration."""
Port = Annotated[int, Field(ge=1, le=65_533)]
"""A health port; a service's other processes serve on the next one or two."""
