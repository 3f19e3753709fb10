"""deploy/docker/Dockerfile, checked without building it (there is no container engine here).

A pinned base image, a non-root user that matches the chart's, dependencies only from the pins in
requirements.txt (less test-only tools the code never imports), one ENTRYPOINT with the process kind
as its argument, and build inputs that exist and that .dockerignore lets through; the installed service finds its migrations with no environment
variable (the service is installed here as the image installs it, and migrates a real database).
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import asyncpg
import pytest
import yaml

from .conftest import CHART, REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
SERVICES = ("ledger", "allocation")
RUNTIME_SOURCES = [REPO_ROOT / "schemas" / "src", REPO_ROOT / "runtime" / "src",
                   *(REPO_ROOT / "services" / s / "src" for s in SERVICES)]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.strip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            current = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def global_args() -> dict[str, str]:
    args = {}
    for word, rest in instructions():
        if word == "FROM":
            break
        if word == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
    return args


def test_the_base_image_is_pinned_to_an_exact_python_3_11_release():
    args = global_args()
    stage_names = set()
    for stage in stages():
        image = stage[0][1].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image in stage_names or re.fullmatch(
            r"python:3\.11\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?|[^:@]+@sha256:[0-9a-f]{64}", image), image
        assert "latest" not in image
        parts = stage[0][1].split()
        if len(parts) == 3 and parts[1].upper() == "AS":
            stage_names.add(parts[2])


def test_the_final_stage_runs_as_the_charts_non_root_user():
    final = stages()[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "a numeric uid lets Kubernetes check runAsNonRoot"
    security = yaml.safe_load((CHART / "values.yaml").read_text())["security"]
    assert int(uid) == security["runAsUser"] and int(gid or uid) == security["runAsGroup"]
    words = [w for w, _ in final]
    assert words.index("ENTRYPOINT") > len(words) - 1 - words[::-1].index("USER")


def test_one_exec_form_entrypoint_and_the_process_kind_as_argument():
    final = stages()[-1]
    entrypoints = [rest for word, rest in final if word == "ENTRYPOINT"]
    assert len(entrypoints) == 1 and not any(w == "ENTRYPOINT" for s in stages()[:-1] for w, _ in s)
    assert json.loads(entrypoints[0]) == ["/opt/venv/bin/careledger-service"]
    cmd = [rest for word, rest in final if word == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == ["worker"]
    assert not any(word == "HEALTHCHECK" for word, _ in instructions()), "Kubernetes probes instead"
    build = " ".join(rest for word, rest in stages()[0] if word == "RUN")
    assert "ln -s /opt/venv/bin/${SERVICE} /opt/venv/bin/careledger-service" in build
    # The link's target is each service's console script, whose name is the service's.
    for service in SERVICES:
        project = tomllib.loads((REPO_ROOT / "services" / service / "pyproject.toml").read_text())["project"]
        assert project["scripts"][service] == f"{service}.__main__:main"


def cli_commands(service: str) -> set[str]:
    """The commands `python -m <service>` accepts, read from its argparse parser."""
    module = __import__(f"{service}.__main__", fromlist=["main"])

    class Captured(Exception):
        pass

    def capture(self, *args, **kwargs):
        raise Captured(self)

    original = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = capture
    try:
        module.main([])
    except Captured as captured:
        parser = captured.args[0]
    finally:
        argparse.ArgumentParser.parse_args = original
    commands = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest == "command":
            commands |= set(action.choices)
    return commands


def test_the_chart_passes_only_commands_the_services_accept(rendered):
    for docs in rendered.values():
        for doc in docs:
            if doc["kind"] not in ("Deployment", "Job"):
                continue
            container = doc["spec"]["template"]["spec"]["containers"][0]
            if "args" not in container:
                continue
            service = container["image"].rsplit("/", 1)[-1].split(":")[0]
            assert container["args"][0] in cli_commands(service), doc["metadata"]["name"]


def imported_top_level_modules() -> set[str]:
    names = set()
    for root in RUNTIME_SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names


def test_dependencies_come_only_from_the_pinned_requirements():
    run = " ".join(rest for word, rest in stages()[0] if word == "RUN")
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt: {line} is not pinned"
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    excluded = re.search(r"grep -v -E '\^\(([^)]*)\)==' /src/requirements.txt", run)
    assert excluded, "the image installs from requirements.txt less an explicit list of test-only pins"
    test_only = set(excluded.group(1).split("|"))
    assert test_only <= pins.keys()
    used = imported_top_level_modules()
    for package in test_only:
        assert package.replace("-", "_") not in used, f"{package} is imported by the services: keep it in the image"
    assert "pip install -r /src/runtime-requirements.txt" in run
    assert re.search(r"pip install --no-deps --no-build-isolation\s+/src/schemas /src/runtime /src/services/\$\{SERVICE\}",
                     run)


def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matches a path or any of its parents."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negate
    return excluded


@pytest.mark.parametrize("service", SERVICES)
def test_build_inputs_exist_and_pass_dockerignore(service):
    for word, rest in stages()[0]:
        if word == "COPY" and not rest.startswith("--from"):
            source = rest.split()[0].replace("${SERVICE}", service)
            assert (REPO_ROOT / source).exists(), source
            assert not dockerignore_excludes(source), f"{source} is excluded by .dockerignore"
    for needed in (f"services/{service}/src/{service}/__main__.py", f"services/{service}/migrations",
                   "runtime/src/careruntime/sql/plumbing.sql", "schemas/pyproject.toml"):
        assert not dockerignore_excludes(needed), needed
    for unwanted in (".venv", ".local", ".git", ".tools", "out", f"services/{service}/tests", "runtime/tests",
                     "tests/integration", "deploy/helm"):
        assert dockerignore_excludes(unwanted), unwanted


INSTALL_MIGRATIONS = REPO_ROOT / "deploy" / "docker" / "install-migrations.sh"


def test_the_image_puts_migrations_where_the_installed_code_looks_without_an_environment_variable():
    build = " ".join(rest for word, rest in stages()[0] if word == "RUN")
    install = build.index("pip install --no-deps")
    step = build.index('sh /src/install-migrations.sh "${SERVICE}" /src/services/${SERVICE}/migrations /opt/venv/bin/python')
    assert install < step, "the migrations go where the *installed* package looks: install it first"
    assert ("COPY", "deploy/docker/install-migrations.sh /src/install-migrations.sh") in stages()[0]
    final = stages()[-1]
    assert not any("MIGRATIONS_DIR" in rest for word, rest in final if word == "ENV"), "no override to drift"
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final


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
        files = [p for p in (REPO_ROOT / "services" / service / "migrations").iterdir() if p.suffix in (".sql", ".py")]
        assert applied == len(files) > 0
    finally:
        conn = await asyncpg.connect(stack.dsn("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            await conn.close()
