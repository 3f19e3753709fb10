"""What the images install, done here as their Dockerfiles do it (no container engine here).

- Each service installed as its image installs it (not editable, install-migrations.sh run after) finds
  its migrations with no environment variable and migrates a real database (the test stack's).
- The reporting image's GOV.UK Frontend: deploy/docker/fetch-npm-package.py unpacks a tarball only when
  its SHA-512 is the pinned integrity and never outside its target; the pinned version and integrity
  are those of deploy/local/install-node-deps.sh's install; the unpacked package is what the dashboard
  looks for at REPORTING_GOVUK_FRONTEND_DIR.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import asyncpg
import pytest

from .conftest import REPO_ROOT, SERVICES
from .test_dockerfile import build_runs, stages

INSTALL_MIGRATIONS = REPO_ROOT / "deploy" / "docker" / "install-migrations.sh"
FETCH = REPO_ROOT / "deploy" / "docker" / "fetch-npm-package.py"
NODE_MODULES = REPO_ROOT / ".local" / "node" / "node_modules"


@pytest.fixture(scope="module", params=SERVICES)
def installed(request, tmp_path_factory):
    """The service installed as the image installs it (not editable) into a folder of its own, with
    install-migrations.sh run against it: (service, site-packages folder, environment to use it)."""
    service = request.param
    root = tmp_path_factory.mktemp(f"{service}-installed")
    site, source = root / "site-packages", root / "source"
    # Built from a copy: an in-tree build would leave build/ folders in the checkout.
    shutil.copytree(REPO_ROOT / "services" / service, source,
                    ignore=shutil.ignore_patterns("build", "tests", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(source)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_MIGRATIONS_DIR")}
    env["PYTHONPATH"] = str(site)  # ahead of the checkout's editable install
    subprocess.run(["sh", str(INSTALL_MIGRATIONS), service, str(REPO_ROOT / "services" / service / "migrations"),
                    sys.executable], check=True, capture_output=True, timeout=60, env=env)
    return service, site, env


def test_the_installed_service_finds_its_migrations_by_default(installed):
    service, site, env = installed
    probe = (f"import {service}.config as c; print(c.__file__); print(c.Settings().migrations_dir)")
    module_file, folder = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True,
                                         text=True, timeout=60).stdout.split()
    assert Path(module_file).is_relative_to(site), "the installed copy, not the checkout"
    source = REPO_ROOT / "services" / service / "migrations"
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted(p.name for p in source.iterdir()
                                                                       if p.name != "__pycache__")


async def test_the_installed_service_migrates_a_database(installed, stack):
    service, _, env = installed
    dbname = f"t_image_{service}_{os.getpid()}"
    env = {**env, f"{service.upper()}_DATABASE_URL": stack.dsn(dbname)}
    try:
        result = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", service, "migrate"], env=env,
                                         capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        conn = await asyncpg.connect(stack.dsn(dbname))
        try:
            applied = await conn.fetchval("SELECT count(*) FROM _yoyo_migration")
        finally:
            await conn.close()
        files = [p for p in (REPO_ROOT / "services" / service / "migrations").iterdir()
                     if p.suffix in (".sql", ".py") and not p.name.endswith(".rollback.sql")]  # yoyo's rollbacks
        assert applied == len(files) > 0
    finally:
        conn = await asyncpg.connect(stack.dsn("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            await conn.close()


def fetch_step() -> tuple[str, str, str, str]:
    """(name, version, integrity, target) of the reporting image's fetch-npm-package.py step."""
    (match,) = re.findall(r"fetch-npm-package\.py (\S+) (\S+) (sha512-\S+) (\S+)", build_runs("reporting"))
    return match


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm_tarball(package_dir: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A tarball shaped as npm publishes one: every file under package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(p for p in package_dir.rglob("*") if p.is_file()):
            archive.add(path, arcname=f"package/{path.relative_to(package_dir)}")
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fetch(registry: Path, name: str, version: str, integrity: str, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(FETCH), name, version, integrity, str(target),
                           "--registry", registry.as_uri()], capture_output=True, text=True, timeout=60, check=False)


def installed_govuk_frontend() -> Path:
    package = NODE_MODULES / "govuk-frontend"
    if not (package / "package.json").is_file():
        pytest.fail(f"{package} is missing: run deploy/local/install-node-deps.sh (part of `make deps`)", pytrace=False)
    return package


def test_the_reporting_image_pins_govuk_frontend_as_the_local_install_does():
    name, version, integrity, target = fetch_step()
    script = (REPO_ROOT / "deploy" / "local" / "install-node-deps.sh").read_text()
    assert (name, version) == ("govuk-frontend", re.search(r'GOVUK_FRONTEND_VERSION="([^"]+)"', script).group(1))
    installed_govuk_frontend()
    lock = json.loads((NODE_MODULES / ".package-lock.json").read_text())["packages"]["node_modules/govuk-frontend"]
    assert (lock["version"], lock["integrity"]) == (version, integrity), "npm's own record of that tarball"
    final = stages("reporting")[-1]
    env = " ".join(rest for word, rest in final if word == "ENV").split()
    assert f"REPORTING_GOVUK_FRONTEND_DIR={target}" in env
    assert ("COPY", f"--from=build {target} {target}") in final
    for service in set(SERVICES) - {"reporting"}:
        assert "fetch-npm-package" not in build_runs(service)


def test_fetch_unpacks_a_package_the_dashboard_finds_and_refuses_a_wrong_integrity(tmp_path):
    from reporting.web.assets import govuk_frontend

    data = npm_tarball(installed_govuk_frontend())
    registry = tmp_path / "registry"
    (registry / "govuk-frontend" / "-").mkdir(parents=True)
    (registry / "govuk-frontend" / "-" / "govuk-frontend-9.9.9.tgz").write_bytes(data)

    wrong = fetch(registry, "govuk-frontend", "9.9.9", integrity_of(data + b"x"), tmp_path / "refused")
    assert wrong.returncode != 0 and "integrity mismatch" in wrong.stderr
    assert not (tmp_path / "refused").exists(), "nothing unpacked from a tarball that failed its check"

    target = tmp_path / "opt" / "govuk-frontend"
    ok = fetch(registry, "govuk-frontend", "9.9.9", integrity_of(data), target)
    assert ok.returncode == 0, ok.stderr
    frontend = govuk_frontend(target)
    assert frontend.installed and frontend.version == json.loads(
        (installed_govuk_frontend() / "package.json").read_text())["version"]
    assert "GDS Transport" not in frontend.stylesheet and frontend.image("favicon.ico") is not None


def test_fetch_refuses_a_member_outside_its_target(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "package.json").write_text('{"name": "evil", "version": "1.0.0"}')
    data = npm_tarball(package, {"package/../../escaped.txt": b"outside"})
    registry = tmp_path / "registry"
    (registry / "evil" / "-").mkdir(parents=True)
    (registry / "evil" / "-" / "evil-1.0.0.tgz").write_bytes(data)
    result = fetch(registry, "evil", "1.0.0", integrity_of(data), tmp_path / "target")
    assert result.returncode != 0 and "outside the target" in result.stderr
    assert not (tmp_path / "escaped.txt").exists()
