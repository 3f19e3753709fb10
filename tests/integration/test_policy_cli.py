"""`python -m allocation policy` and `python -m payments policy` against real databases: a setting is
validated before it is stored, a refused one stores nothing and exits 2, and the stored policy is what
the next call shows."""
import json
import os
import subprocess
import sys

import pytest

SERVICES = {"allocation": ("ALLOCATION_DATABASE_URL", "variance_tolerance_bp"),
            "payments": ("PAYMENTS_DATABASE_URL", "invoice_tolerance_bp")}


def _policy(service: str, dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SERVICES[service][0]: dsn}
    return subprocess.run([sys.executable, "-m", service, "policy", "E10000001", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_policy_is_validated_stored_and_shown(fresh_db, service):
    dsn = await fresh_db(service)
    key = SERVICES[service][1]
    shown = _policy(service, dsn)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)[key] == 0

    refused = _policy(service, dsn, f"{key}=20000")
    assert refused.returncode == 2 and "policy:" in refused.stderr
    assert json.loads(_policy(service, dsn).stdout)[key] == 0

    changed = _policy(service, dsn, f"{key}=250")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(_policy(service, dsn).stdout)[key] == 250
    assert json.loads(_policy(service, dsn).stdout)["council_id"] == "E10000001"
