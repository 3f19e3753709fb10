"""Who may see what: API keys, the council each is scoped to, and what each role may do.

Owns the access rules of the HTTP API and dashboard:
- a key (Bearer token, or the sign-in cookie for pages read in a browser) maps to exactly one council
  and one role; keys are configured by their sha256 only;
- every council-scoped route checks the path's council against the key's, so no council sees another's;
- the `auditor` role reads everything of its council and writes nothing; `finance` may also write;
- writes take the key from the Authorization header only, never from the cookie, so a page from another
  site cannot make a signed-in browser write (no CSRF).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from .config import ApiKey

WRITE_ROLES = frozenset({"finance"})
COOKIE_NAME = "reporting_key"
MAX_KEY_LENGTH = 200


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh random key and its sha256 (configure the hash, hand out the key)."""
    key = secrets.token_urlsafe(32)
    return key, hash_key(key)


@dataclass(frozen=True)
class Principal:
    council_id: str
    role: str
    label: str = ""

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES


class KeyRing:
    """The configured keys, looked up by the hash of a presented key."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._by_hash = {k.key_sha256: Principal(k.council_id, k.role, k.label) for k in keys}

    def __len__(self) -> int:
        return len(self._by_hash)

    def principal(self, presented: str | None) -> Principal | None:
        if not presented or len(presented) > MAX_KEY_LENGTH:
            return None
        return self._by_hash.get(hash_key(presented))


class AccessDenied(Exception):
    """The request may not do this; `status` is 401 (who are you?) or 403 (not for you)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def authorise(principal: Principal | None, council_id: str, *, write: bool = False) -> Principal:
    """The principal, if it may read (or write) council_id's data; AccessDenied otherwise."""
    if principal is None:
        raise AccessDenied(401, "A valid access key is required.")
    if principal.council_id != council_id:
        raise AccessDenied(403, "This key is not for that council.")
    if write and not principal.can_write:
        raise AccessDenied(403, f"The {principal.role} role can read but not write.")
    return principal
