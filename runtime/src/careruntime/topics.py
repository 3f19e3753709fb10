"""Kafka topic declarations: load them from deploy/topics.yaml and make the broker match.

Owns the topic-spec file format and `ensure_topics`, which creates missing topics, leaves existing
ones alone, and refuses (TopicMismatchError) when an existing topic has fewer partitions than
declared: keys would hash to different partitions than the consumers and the replay logic expect.

File format (YAML; parsed with PyYAML when it is installed, otherwise the file must stay in the
JSON-compatible subset of YAML, with whole-line `#` comments allowed):

    {"defaults": {"partitions": 6, "replication_factor": 1, "config": {"retention.ms": "-1"}},
     "topics": [{"name": "ledger.entries.v1"},
                {"name": "ledger.entries.v1.dlq", "partitions": 1, "config": {...}}]}

A topic's config is the defaults' config updated with its own.

CLI: python -m careruntime.topics ensure --config deploy/topics.yaml --bootstrap HOST:PORT [--prefix P]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .kafka_security import client_options

log = logging.getLogger(__name__)


class TopicMismatchError(RuntimeError):
    """An existing topic cannot serve as declared (e.g. it has fewer partitions)."""


class TopicCreationError(RuntimeError):
    """The broker refused to create a topic."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass
class EnsureReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def _parse_document(text: str, path: Path) -> Any:
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        return yaml.safe_load(text)
    stripped = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: PyYAML is not installed, so the file must be JSON-compatible YAML "
            f"(whole-line # comments allowed): {exc}"
        ) from exc


def _as_config(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: config must be a mapping of strings")
    return {str(k): str(v) for k, v in raw.items()}


def load_topic_specs(path: str | Path, prefix: str = "") -> list[TopicSpec]:
    """Read topic declarations from `path`; every name gets `prefix` in front of it."""
    path = Path(path)
    doc = _parse_document(path.read_text(encoding="utf-8"), path)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("topics"), list):
        raise ValueError(f"{path}: expected a mapping with a 'topics' list")
    defaults = doc.get("defaults") or {}
    default_config = _as_config(defaults.get("config"), f"{path}: defaults")
    specs: list[TopicSpec] = []
    seen: set[str] = set()
    for entry in doc["topics"]:
        if not isinstance(entry, Mapping) or not entry.get("name"):
            raise ValueError(f"{path}: every topic needs a name: {entry!r}")
        name = prefix + str(entry["name"])
        if name in seen:
            raise ValueError(f"{path}: topic {name} is declared twice")
        seen.add(name)
        partitions = int(entry.get("partitions", defaults.get("partitions", 1)))
        replication = int(entry.get("replication_factor", defaults.get("replication_factor", 1)))
        if partitions < 1 or replication < 1:
            raise ValueError(f"{path}: {name}: partitions and replication_factor must be >= 1")
        config = {**default_config, **_as_config(entry.get("config"), f"{path}: {name}")}
        specs.append(TopicSpec(name, partitions, replication, config))
    return specs


async def _partition_counts(admin: Any, names: list[str]) -> dict[str, int]:
    """Partition counts of the named topics that exist and have a leader for every partition."""
    counts: dict[str, int] = {}
    for topic in await admin.describe_topics(names):
        partitions = topic.get("partitions") or []
        if topic.get("error_code", 0) == 0 and all(p.get("leader", -1) >= 0 for p in partitions):
            counts[topic["topic"]] = len(partitions)
    return counts


async def _create(admin: Any, specs: list[TopicSpec]) -> list[str]:
    from aiokafka.admin import NewTopic
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    response = await admin.create_topics(
        [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=dict(s.config))
            for s in specs
        ]
    )
    created = []
    for error in response.topic_errors:
        topic, code = error[0], error[1]
        message = error[2] if len(error) > 2 else ""
        if code == 0:
            created.append(topic)
        elif for_code(code) is not TopicAlreadyExistsError:  # a concurrent creator won the race
            raise TopicCreationError(f"could not create {topic}: {for_code(code).__name__} {message}")
    return created


async def ensure_topics(
    bootstrap: str, specs: Iterable[TopicSpec], timeout_s: float = 30.0
) -> EnsureReport:
    """Create the missing topics among `specs` and check the partition counts of all of them.

    Returns once every topic is visible in the broker's metadata with a leader for each partition,
    so a producer may use it straight away.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    specs = list(specs)
    report = EnsureReport()
    if not specs:
        return report
    wanted = {s.name: s for s in specs}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics()) & wanted.keys()
        missing = [s for s in specs if s.name not in existing]
        if missing:
            report.created = await _create(admin, missing)
        report.existing = sorted(wanted.keys() - set(report.created))

        deadline = time.monotonic() + timeout_s
        while True:
            counts = await _partition_counts(admin, list(wanted))
            too_few = {
                n: c for n, c in counts.items() if n in existing and c < wanted[n].partitions
            }
            if too_few:
                detail = ", ".join(
                    f"{n} has {c} < {wanted[n].partitions}" for n, c in sorted(too_few.items())
                )
                raise TopicMismatchError(
                    f"existing topics have fewer partitions than declared: {detail}; "
                    "add partitions deliberately (it remaps keys) or fix the declaration"
                )
            pending = [n for n in wanted if counts.get(n, 0) < wanted[n].partitions]
            if not pending:
                return report
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not ready after {timeout_s:.0f}s: {pending}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete the named topics (missing ones are ignored). Meant for test clean-up."""
    from aiokafka.admin import AIOKafkaAdminClient

    names = list(names)
    if not names:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        present = set(await admin.list_topics())
        doomed = [n for n in names if n in present]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m careruntime.topics")
    sub = parser.add_subparsers(dest="command", required=True)
    ensure = sub.add_parser("ensure", help="create missing topics, verify partition counts")
    ensure.add_argument("--config", required=True, help="topic declarations (deploy/topics.yaml)")
    ensure.add_argument("--bootstrap", required=True, help="HOST:PORT of a broker")
    ensure.add_argument("--prefix", default="", help="prepended to every topic name")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    specs = load_topic_specs(args.config, prefix=args.prefix)
    try:
        report = asyncio.run(ensure_topics(args.bootstrap, specs))
    except (TopicMismatchError, TopicCreationError, TimeoutError) as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1
    print(f"topics: {len(report.created)} created, {len(report.existing)} already present")
    for name in report.created:
        print(f"  + {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
