"""Fetch one npm package's published tarball, check it against its registry integrity, unpack it.

Used at image build time (services/reporting/Dockerfile: govuk-frontend), so the image needs neither
node nor npm: the tarball is the one npm itself would install, refused unless its SHA-512 is the pinned
`integrity` (the value npm records in package-lock.json), and unpacked without letting any member
escape the target folder.

    python fetch-npm-package.py NAME VERSION INTEGRITY TARGET [--registry URL]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


def tarball_url(registry: str, name: str, version: str) -> str:
    """npm's tarball address: <registry>/<name>/-/<basename>-<version>.tgz (a scope stays in <name>)."""
    return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_integrity(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise ValueError(f"only sha512 integrity is accepted, not {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise ValueError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}")


def unpack(data: bytes, target: Path) -> int:
    """Unpack the tarball's package/ folder into target; returns the number of files written."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    written = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue  # npm tarballs hold files (folders are implied); no links, no devices
            relative = Path(*Path(member.name).parts[1:])  # drop the "package/" prefix
            path = (root / relative).resolve()
            if not relative.parts or not path.is_relative_to(root):
                raise ValueError(f"refusing tarball member outside the target: {member.name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.extractfile(member).read())
            path.chmod(0o644)
            written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("version")
    parser.add_argument("integrity", help="sha512-<base64>, as in package-lock.json")
    parser.add_argument("target", type=Path)
    parser.add_argument("--registry", default=REGISTRY)
    args = parser.parse_args(argv)
    url = tarball_url(args.registry, args.name, args.version)
    with urllib.request.urlopen(url, timeout=120) as response:  # https, or a test's file:// URL
        data = response.read()
    check_integrity(data, args.integrity)
    count = unpack(data, args.target)
    print(f"fetch-npm-package: {args.name}@{args.version} ({len(data)} bytes, {count} files) -> {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
