"""Writes services/<service>/Dockerfile for every service of the chart, and deploy/docker/requirements.lock.

One image per service, each built by its own Dockerfile (`docker build -f services/<s>/Dockerfile .`,
from the repository root), all generated from the one template below so they cannot drift apart: a
fix goes here, `python deploy/docker/dockerfiles.py` rewrites them, and tests/deploy fails while a
written file differs from what this script makes (`--check` says which).

requirements.lock is every runtime dependency, transitive ones included, at the exact version installed
in the venv the tests run in: the closure of requirements.txt's pins less the test-only tools. Images
install it with --no-deps, so an image holds what was tested and nothing resolved at build time.

    .venv/bin/python deploy/docker/dockerfiles.py [--check]
"""
from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK = REPO_ROOT / "deploy" / "docker" / "requirements.lock"
CHART_VALUES = REPO_ROOT / "deploy" / "helm" / "careledger" / "values.yaml"
NODE_DEPS = REPO_ROOT / "deploy" / "local" / "install-node-deps.sh"
PYTHON_IMAGE = "python:3.11.14-slim-bookworm"
# Pins of requirements.txt the services never import: the test suite's tools stay out of the images.
TEST_ONLY = ("pytest", "pytest-asyncio", "hypothesis", "kubernetes-validate", "schemathesis")
# Pins only an image's build stage uses: mypy compiles the ledger's decision code (ledger/native.py) and is
# uninstalled before the venv is copied into the final stage.
BUILD_ONLY = ("mypy",)
PROCESS_KINDS = ("worker", "relay", "timer", "views", "api")  # the chart's careledger.processKinds
# govuk-frontend for the reporting dashboard: the version deploy/local/install-node-deps.sh pins, and
# the integrity npm records for that version's tarball (change both together).
GOVUK_FRONTEND = ("6.6.0", "sha512-xctkWrQvLnvQt7fyjQ3MGX9S0wz0x0RQuLxCeoXF+s8EjGICG81/DYQGKN5qgO+0KVT12UAaRwUsGY6fulRcRg==")
GOVUK_FRONTEND_DIR = "/opt/govuk-frontend"
# Other services whose CLI a service runs as a subprocess (services never import each other), so its
# image installs them too: `reporting sync-ledger` runs `python -m ledger verify` on the ledger's database.
RUNS_CLI_OF = {"reporting": ("ledger",)}


def chart_services() -> dict[str, list[str]]:
    """{service: its process kinds} as the chart's values.yaml has them (the image serves each kind)."""
    values = yaml.safe_load(CHART_VALUES.read_text())
    services = [s for s, v in values.items() if isinstance(v, dict) and "healthPort" in v]
    return {s: [k for k in PROCESS_KINDS if k in values[s]] for s in services}


def govuk_frontend_version() -> str:
    pinned = re.search(r'^GOVUK_FRONTEND_VERSION="([^"]+)"', NODE_DEPS.read_text(), re.MULTILINE).group(1)
    if pinned != GOVUK_FRONTEND[0]:
        raise SystemExit(f"install-node-deps.sh pins govuk-frontend {pinned}, this script {GOVUK_FRONTEND[0]}: "
                         "update GOVUK_FRONTEND with that version's integrity (npm view govuk-frontend@<v> dist.integrity)")
    return pinned


def runtime_pins() -> list[Requirement]:
    pins = []
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            if canonicalize_name(req.name) not in {canonicalize_name(t) for t in (*TEST_ONLY, *BUILD_ONLY)}:
                pins.append(req)
    return pins


def build_only_pin(name: str) -> str:
    """`name==version` as requirements.txt pins a BUILD_ONLY package."""
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and canonicalize_name(Requirement(line).name) == canonicalize_name(name):
            return line
    raise SystemExit(f"requirements.txt does not pin {name}")


def lock_lines() -> list[str]:
    """name==version for the closure of the runtime pins, as installed, for CPython 3.11 on Linux."""
    env = default_environment() | {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux",
                                   "os_name": "posix", "implementation_name": "cpython"}
    found: dict[str, str] = {}
    todo = [(req, frozenset(req.extras)) for req in runtime_pins()]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{req.name} is not installed: run `make venv` first") from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise SystemExit(f"{req.name} {dist.version} is installed, requirements ask {req}: run `make venv`")
        found[name] = dist.version
        for text in dist.requires or []:
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate(env | {"extra": e}) for e in (extras or {""})):
                todo.append((dep, frozenset(dep.extras)))
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def lock_text() -> str:
    return ("# GENERATED by deploy/docker/dockerfiles.py from requirements.txt and the venv: do not edit.\n"
            "# Every runtime dependency of the images at the version the tests ran with (test-only tools left out).\n"
            + "\n".join(lock_lines()) + "\n")


def dockerfile(service: str, kinds: list[str]) -> str:
    packages = [service, *RUNS_CLI_OF.get(service, ())]
    copies = "\n".join(f"COPY services/{p} /src/services/{p}" for p in packages)
    installs = " ".join(f"/src/services/{p}" for p in packages)
    header = f"""\
# GENERATED by deploy/docker/dockerfiles.py (edit its template, then run it; a test fails while this is stale).
#
# The {service} service's image. Build from the repository root:
#   docker build -f services/{service}/Dockerfile -t <registry>/{service}:0.1.0 .
# Pin the base by digest for a reproducible build:
#   --build-arg PYTHON_IMAGE={PYTHON_IMAGE}@sha256:<digest>
# One entry point, careledger-process; the process kind is its argument, as the chart passes it:
#   {" | ".join(kinds)} | migrate, and the `{service}` CLI's other commands
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (deploy/helm/careledger).
ARG PYTHON_IMAGE={PYTHON_IMAGE}

FROM ${{PYTHON_IMAGE}} AS build
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# Every dependency at the version the tests ran with (requirements.lock), nothing resolved here.
COPY deploy/docker/requirements.lock /src/requirements.lock
RUN /opt/venv/bin/pip install --no-deps -r /src/requirements.lock \\
 && /opt/venv/bin/pip check
# The repository's own packages: the wire contracts, the runtime and this service (not editable){
        ", with the CLI of " + ", ".join(packages[1:]) + " it runs" if packages[1:] else ""}.
COPY schemas /src/schemas
COPY runtime /src/runtime
{copies}
COPY deploy/docker/install-migrations.sh deploy/docker/careledger-process /src/
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /src/schemas /src/runtime {installs} \\
 && install -m 0755 /src/careledger-process /opt/venv/bin/careledger-process \\
 && sh /src/install-migrations.sh {service} /src/services/{service}/migrations /opt/venv/bin/python
"""
    extra_build, extra_env, extra_copy = "", "", ""
    if service == "ledger":
        extra_build = f"""\
# The decision code compiled with mypyc (ledger/native.py): a C compiler and the pinned mypy in this stage
# only. The build must end with the compiled modules in use, or the image is not built.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
 && rm -rf /var/lib/apt/lists/* \\
 && /opt/venv/bin/pip install --no-deps {build_only_pin("mypy")} \\
 && /opt/venv/bin/python -m ledger native-build | grep -qx "ledger decision code: compiled" \\
 && /opt/venv/bin/pip uninstall -y mypy
"""
    if "api" in kinds and service == "reporting":
        version, integrity = GOVUK_FRONTEND
        extra_build = f"""\
# The dashboard's GOV.UK Frontend assets: the npm tarball, checked against its pinned integrity.
COPY deploy/docker/fetch-npm-package.py /src/
RUN /opt/venv/bin/python /src/fetch-npm-package.py govuk-frontend {version} \\
        {integrity} {GOVUK_FRONTEND_DIR}
"""
        extra_env = f" \\\n    REPORTING_GOVUK_FRONTEND_DIR={GOVUK_FRONTEND_DIR}"
        extra_copy = f"COPY --from=build {GOVUK_FRONTEND_DIR} {GOVUK_FRONTEND_DIR}\n"
    final = f"""
FROM ${{PYTHON_IMAGE}}
LABEL org.opencontainers.image.title="careledger-{service}" \\
      org.opencontainers.image.description="Care budget ledger: the {service} service ({", ".join(kinds)})"
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    CARELEDGER_SERVICE={service}{extra_env}
RUN groupadd --system --gid 10001 careledger \\
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \\
        --shell /usr/sbin/nologin careledger
# Everything the service needs is in the venv, its migrations included (install-migrations.sh).
COPY --from=build /opt/venv /opt/venv
{extra_copy}WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/opt/venv/bin/careledger-process"]
CMD ["{kinds[0]}"]
"""
    return header + extra_build + final


def expected_files() -> dict[Path, str]:
    govuk_frontend_version()
    files = {REPO_ROOT / "services" / s / "Dockerfile": dockerfile(s, kinds) for s, kinds in chart_services().items()}
    files[LOCK] = lock_text()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) the per-service Dockerfiles and the lock.")
    parser.add_argument("--check", action="store_true", help="exit 1 naming every file that is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(path.relative_to(REPO_ROOT))
            if not args.check:
                path.write_text(text)
    verb = "stale (run python deploy/docker/dockerfiles.py)" if args.check else "written"
    for path in stale:
        print(f"{path}: {verb}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
