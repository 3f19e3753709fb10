"""`python -m allocation policy COUNCIL [KEY=JSON ...]`: show a council's policy, or change some of its
settings. The new policy is validated (CouncilPolicy) before it is stored; commands decided after the
change use it."""
from __future__ import annotations

from careruntime import policy_cli

from ..adapters import repository
from ..config import Settings
from ..domain.policy import CouncilPolicy, PolicyError


async def run_policy(settings: Settings, council_id: str, assignments: list[str]) -> int:
    return await policy_cli.run_policy(settings.database_url, council_id, assignments,
                                       load=repository.load_policy, save=repository.save_policy,
                                       from_mapping=CouncilPolicy.from_mapping, error=PolicyError)
