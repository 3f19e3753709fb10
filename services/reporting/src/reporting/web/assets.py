"""The GOV.UK Frontend package (npm `govuk-frontend`, pinned in deploy/local/install-node-deps.sh) as the
reporting pages use it.

Owns finding the installed package and the stylesheet the pages are given. The GOV.UK Design System
may be used by councils, but the GDS Transport typeface and the crown are for GOV.UK services only, so
the package's precompiled stylesheet is served with its @font-face rules removed and every
"GDS Transport" font stack falling back to Arial (what the Design System tells other services to use).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[5]
DEFAULT_PACKAGE_DIR = REPO_ROOT / ".local" / "node" / "node_modules" / "govuk-frontend"
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
_FONT_STACK = re.compile(r"font-family:([^;}]*)")


def _without_transport(match: re.Match[str]) -> str:
    fonts = [f for f in match.group(1).split(",") if f.strip().strip('"') != "GDS Transport"]
    return "font-family:" + (",".join(fonts) or "arial,sans-serif")


def council_stylesheet(css: str) -> str:
    """GOV.UK Frontend's CSS without the GOV.UK-only typeface: no @font-face, Arial instead."""
    return _FONT_STACK.sub(_without_transport, _FONT_FACE.sub("", css))


@dataclass(frozen=True)
class GovukFrontend:
    """The installed govuk-frontend package: its dist folder, version and the council stylesheet."""

    package_dir: Path

    @property
    def dist(self) -> Path:
        return self.package_dir / "dist" / "govuk"

    @property
    def installed(self) -> bool:
        return (self.dist / "govuk-frontend.min.css").is_file()

    @cached_property
    def version(self) -> str:
        return json.loads((self.package_dir / "package.json").read_text())["version"]

    @cached_property
    def stylesheet(self) -> str:
        return council_stylesheet((self.dist / "govuk-frontend.min.css").read_text())

    @cached_property
    def script(self) -> bytes:
        return (self.dist / "govuk-frontend.min.js").read_bytes()

    def image(self, name: str) -> Path | None:
        """A file of the package's assets/images folder, or None (never a path outside it)."""
        folder = (self.dist / "assets" / "images").resolve()
        path = (folder / name).resolve()
        return path if path.parent == folder and path.is_file() else None


def govuk_frontend(package_dir: Path | None = None) -> GovukFrontend:
    return GovukFrontend(package_dir or DEFAULT_PACKAGE_DIR)
