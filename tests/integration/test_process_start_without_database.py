"""Every long-running process started while PostgreSQL refuses connections (an outage, a failover, a wrong host):
one line naming the service and the cause, and exit code 3, as `migrate` and `verify` do; not a traceback.

A supervisor (Kubernetes, systemd) restarts it with its back-off; once PostgreSQL is back it starts. The reporting
API (`python -m reporting.web serve`) is the exception: it opens no connection at start and answers /readyz 503
until PostgreSQL is back (test_reporting_web_api.py). No stack is needed: a port nothing listens on refuses as
a stopped server does.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

PROCESSES = [("ledger", "worker"), ("ledger", "relay"), ("allocation", "worker"), ("allocation", "relay"),
             ("payments", "worker"), ("payments", "relay"), ("payments", "timer"), ("reporting", "worker")]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("service", "command"), PROCESSES)
def test_a_process_started_while_postgresql_refuses_says_so_in_one_line_and_exits_3(service, command) -> None:
    prefix = service.upper()
    env = {**os.environ, f"{prefix}_DATABASE_URL": f"postgresql://careledger@127.0.0.1:{closed_port()}/{service}",
           f"{prefix}_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", f"{prefix}_HEALTH_PORT": str(closed_port()),
           f"{prefix}_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", service, command], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    err = done.stderr.strip()
    assert done.returncode == 3, (done.returncode, err[-2000:])
    assert err.splitlines() == [f"{service}: the database is unreachable: ConnectionRefusedError: "
                                "[Errno 111] Connection refused"], err[-2000:]
