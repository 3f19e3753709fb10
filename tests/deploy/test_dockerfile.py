"""services/<service>/Dockerfile, checked without building it (there is no container engine here).

The Dockerfiles are generated (deploy/docker/dockerfiles.py) and must be what the generator makes now.
Each has a pinned base image, a non-root user that matches the chart's, dependencies only from the
lock of what the tests ran with (test-only tools left out), one ENTRYPOINT (careledger-process) that
turns every process kind the chart passes into a command the service accepts, and build inputs that
exist and that .dockerignore lets through. What the image installs, installed here: test_image_install.py.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import CHART, REPO_ROOT, SERVICES, pod_specs

GENERATOR = REPO_ROOT / "deploy" / "docker" / "dockerfiles.py"
DISPATCHER = REPO_ROOT / "deploy" / "docker" / "careledger-process"
LOCK = REPO_ROOT / "deploy" / "docker" / "requirements.lock"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
TEST_ONLY = {"pytest", "pytest-asyncio", "hypothesis", "kubernetes-validate", "schemathesis"}
BUILD_ONLY = {"mypy"}  # installed in the ledger's build stage at its pin, uninstalled before the final stage


def dockerfile(service: str) -> Path:
    return REPO_ROOT / "services" / service / "Dockerfile"


def instructions(service: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, current = [], ""
    for line in dockerfile(service).read_text().splitlines():
        if line.strip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            current = ""
    return out


def stages(service: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(service):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def build_runs(service: str) -> str:
    return " ".join(rest for word, rest in stages(service)[0] if word == "RUN")


def test_every_dockerfile_is_what_the_generator_makes_now():
    """A hand edit, a new pin or a service joining the chart without regenerating fails here."""
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert {p.parent.name for p in (REPO_ROOT / "services").glob("*/Dockerfile")} == set(SERVICES)
    assert all(s in values for s in SERVICES)


def test_the_generator_check_notices_a_stale_file_and_rewrites_it(tmp_path):
    """On a copy of the generator's inputs and outputs: --check fails naming a hand-edited Dockerfile,
    a plain run rewrites it, and --check passes again."""
    inputs = ["deploy/docker/dockerfiles.py", "deploy/docker/requirements.lock", "deploy/helm/careledger/values.yaml",
              "deploy/local/install-node-deps.sh", "requirements.txt", *(f"services/{s}/Dockerfile" for s in SERVICES)]
    for name in inputs:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((REPO_ROOT / name).read_text())
    copy = [sys.executable, str(tmp_path / "deploy" / "docker" / "dockerfiles.py")]

    def run(*args):
        return subprocess.run([*copy, *args], capture_output=True, text=True, timeout=120, check=False)

    assert run("--check").returncode == 0
    edited = tmp_path / "services" / "payments" / "Dockerfile"
    edited.write_text(edited.read_text().replace("USER 10001:10001", "USER 0"))
    stale = run("--check")
    assert stale.returncode == 1 and stale.stdout.strip() == "services/payments/Dockerfile: stale (run python deploy/docker/dockerfiles.py)"
    assert "USER 0" in edited.read_text(), "--check writes nothing"
    assert run().returncode == 0 and "USER 10001:10001" in edited.read_text()
    assert run("--check").returncode == 0


@pytest.mark.parametrize("service", SERVICES)
def test_the_base_image_is_pinned_to_an_exact_python_3_11_release(service):
    args = {}
    for word, rest in instructions(service):
        if word == "FROM":
            break
        if word == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
    stage_names = set()
    for stage in stages(service):
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage[0][1].split()[0])
        assert image in stage_names or re.fullmatch(
            r"python:3\.11\.\d+-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?|[^:@]+@sha256:[0-9a-f]{64}", image), image
        parts = stage[0][1].split()
        if len(parts) == 3 and parts[1].upper() == "AS":
            stage_names.add(parts[2])


@pytest.mark.parametrize("service", SERVICES)
def test_the_final_stage_runs_as_the_charts_non_root_user(service):
    final = stages(service)[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0, "a numeric uid lets Kubernetes check runAsNonRoot"
    security = yaml.safe_load((CHART / "values.yaml").read_text())["security"]
    assert int(uid) == security["runAsUser"] and int(gid or uid) == security["runAsGroup"]
    words = [w for w, _ in final]
    assert words.index("ENTRYPOINT") > len(words) - 1 - words[::-1].index("USER")


@pytest.mark.parametrize("service", SERVICES)
def test_one_entrypoint_the_dispatcher_with_the_process_kind_as_argument(service):
    final = stages(service)[-1]
    entrypoints = [rest for word, rest in final if word == "ENTRYPOINT"]
    assert len(entrypoints) == 1 and not any(w == "ENTRYPOINT" for s in stages(service)[:-1] for w, _ in s)
    assert json.loads(entrypoints[0]) == ["/opt/venv/bin/careledger-process"]
    assert "install -m 0755 /src/careledger-process /opt/venv/bin/careledger-process" in build_runs(service)
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert f"CARELEDGER_SERVICE={service}" in env.split()
    (cmd,) = [json.loads(rest) for word, rest in final if word == "CMD"]
    assert cmd == ["worker"]
    assert not any(word == "HEALTHCHECK" for word, _ in instructions(service)), "Kubernetes probes instead"


def dispatch(service: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """The image's entry point run here, with the venv's console scripts and python on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "CARELEDGER_SERVICE"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    if service:
        env["CARELEDGER_SERVICE"] = service
    return subprocess.run(["sh", str(DISPATCHER), *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_the_entrypoint_turns_every_kind_the_chart_passes_into_a_command_the_service_accepts(rendered):
    passed = set()
    for docs in rendered.values():
        for _, spec in pod_specs(docs):
            container = spec["containers"][0]
            if "args" in container:  # the topics Job runs a command of its own
                service = container["image"].rsplit("/", 1)[-1].split(":")[0]
                passed.add((service, container["args"][0]))
                if container["args"][0] not in ("api", "views"):  # every argument, parsed by the service's CLI
                    cli_parser(service).parse_args(container["args"])
    assert {kind for _, kind in passed} >= {"worker", "relay", "timer", "views", "api", "migrate", "sync-ledger",
                                            "rebuild"}
    for service, kind in sorted(passed):
        result = dispatch(service, kind, "--help")
        assert result.returncode == 0, f"{service} {kind}: {result.stderr}"
        if kind == "api":
            assert result.stdout.startswith("usage: python -m reporting.web serve"), result.stdout[:200]
        else:
            assert result.stdout.startswith(f"usage: {service}"), f"{service} {kind}: {result.stdout[:200]}"
            assert kind in cli_commands(service), f"{service} has no command {kind!r}"
    assert dispatch("ledger", "verify", "--help").returncode == 0  # any CLI command: kubectl exec ... ledger verify
    assert dispatch("reporting", "no-such-kind").returncode != 0
    assert dispatch(None, "worker").returncode != 0 and "CARELEDGER_SERVICE" in dispatch(None, "worker").stderr


def cli_commands(service: str) -> set[str]:
    """The commands `python -m <service>` accepts, read from its argparse parser."""
    commands = set()
    for action in cli_parser(service)._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest == "command":
            commands |= set(action.choices)
    return commands


def cli_parser(service: str) -> argparse.ArgumentParser:
    """The argparse parser `python -m <service>` builds (caught as main() calls parse_args)."""
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
    return parser


def imported_top_level_modules() -> set[str]:
    names = set()
    roots = [REPO_ROOT / "schemas" / "src", REPO_ROOT / "runtime" / "src",
             *(REPO_ROOT / "services" / s / "src" for s in SERVICES)]
    for root in roots:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names


def test_dependencies_come_only_from_the_lock_of_what_the_tests_ran_with():
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements.txt: {line} is not pinned exactly"
            pins[canonicalize_name(req.name)] = spec.version
    locked = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version
    assert TEST_ONLY <= pins.keys()
    assert not TEST_ONLY & locked.keys(), "test-only tools stay out of the images"
    assert not BUILD_ONLY & locked.keys(), "build-only tools stay out of the images' runtime"
    ledger_runs = build_runs("ledger")
    for name in BUILD_ONLY:
        assert f"pip install --no-deps {name}=={pins[name]}" in ledger_runs and f"pip uninstall -y {name}" in ledger_runs
    for name, version in pins.items():
        if name not in TEST_ONLY | BUILD_ONLY:
            assert locked.get(name) == version, f"{name}: requirements.txt {version}, lock {locked.get(name)}"
    used = imported_top_level_modules()
    for package in TEST_ONLY:
        assert package.replace("-", "_") not in used, f"{package} is imported by the services: keep it in the image"
    for service in SERVICES:
        runs = build_runs(service)
        assert "pip install --no-deps -r /src/requirements.lock" in runs and "pip check" in runs
        assert re.search(rf"pip install --no-deps --no-build-isolation /src/schemas /src/runtime /src/services/{service}\b",
                         runs)
        assert "requirements.txt" not in runs, "nothing resolved at build time"


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
    for word, rest in stages(service)[0]:
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (REPO_ROOT / source).exists(), source
                assert not dockerignore_excludes(source), f"{source} is excluded by .dockerignore"
    for needed in (f"services/{service}/src/{service}/__main__.py", f"services/{service}/migrations",
                   "runtime/src/careruntime/sql/plumbing.sql", "schemas/pyproject.toml"):
        assert not dockerignore_excludes(needed), needed
    for unwanted in (".venv", ".local", ".git", ".tools", "out", f"services/{service}/tests", "runtime/tests",
                     "tests/integration", "deploy/helm", "requirements.txt"):
        assert dockerignore_excludes(unwanted), unwanted


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_puts_migrations_where_the_installed_code_looks_without_an_environment_variable(service):
    runs = build_runs(service)
    install = runs.index("pip install --no-deps --no-build-isolation")
    step = runs.index(f"sh /src/install-migrations.sh {service} /src/services/{service}/migrations /opt/venv/bin/python")
    assert install < step, "the migrations go where the *installed* package looks: install it first"
    final = stages(service)[-1]
    assert not any("MIGRATIONS_DIR" in rest for word, rest in final if word == "ENV"), "no override to drift"
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final


@pytest.mark.parametrize("service", SERVICES)
def test_an_image_installs_every_service_cli_its_code_runs(service):
    """Services never import each other, but one may run another's CLI (`python -m ledger verify` in
    `reporting sync-ledger`): its image must install that service too, or the command fails in the pod."""
    runs = set()
    for path in (REPO_ROOT / "services" / service / "src").rglob("*.py"):
        runs |= set(re.findall(r'"-m",\s*"(\w+)"', path.read_text())) & set(SERVICES)
    installed = set(re.findall(r"/src/services/(\w+)", re.search(r"pip install --no-deps --no-build-isolation[^&]*",
                                                                  build_runs(service)).group(0)))
    assert runs - {service} <= installed, f"{service}'s image lacks the CLI of {runs - installed}"
    assert service in installed
    if service == "reporting":
        assert runs == {"ledger"}, "the check sees the subprocess it guards against"
