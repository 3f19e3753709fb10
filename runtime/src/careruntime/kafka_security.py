"""Kafka TLS and SASL for every Kafka client a careledger process makes, read from the environment.

Owns the one mapping from the `CARELEDGER_KAFKA_*` variables (the names the Helm chart renders) to
client options. `KafkaSecurity.from_env()` reads and checks them, failing at start-up with a message
that names the variable at fault; `.aiokafka_options()` gives the keyword arguments of
AIOKafkaConsumer, AIOKafkaProducer, AIOKafkaAdminClient and AIOKafkaClient (an `ssl_context` from
`aiokafka.helpers.create_ssl_context`), `.faust_credentials()` a faust app's `broker_credentials`.
`client_options()` is the shorthand the runtime's own clients use (BatchConsumer, OutboxRelay, the
health check, topic provisioning), so a service that builds on them is covered without code.

The security settings are per process, not per service: a pod runs one process of one service, and a
process's Kafka clients all speak to one cluster as one user.

    CARELEDGER_KAFKA_SECURITY_PROTOCOL  PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
    CARELEDGER_KAFKA_SASL_MECHANISM     PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512       (SASL_* only)
    CARELEDGER_KAFKA_SASL_USERNAME                                                  (SASL_* only)
    CARELEDGER_KAFKA_SASL_PASSWORD      or ..._SASL_PASSWORD_FILE, a mounted Secret  (SASL_* only)
    CARELEDGER_KAFKA_SSL_CAFILE         CA bundle of the brokers; the system CAs when unset
    CARELEDGER_KAFKA_SSL_CERTFILE       client certificate (PEM) for mutual TLS     (SSL, SASL_SSL)
    CARELEDGER_KAFKA_SSL_KEYFILE        its private key, when not in the certificate file
    CARELEDGER_KAFKA_SSL_KEY_PASSWORD   or ..._SSL_KEY_PASSWORD_FILE, when the key is encrypted
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "CARELEDGER_KAFKA_"
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# Every variable this module reads, without the prefix (the chart's tests check against this list).
SETTINGS = (
    "SECURITY_PROTOCOL", "SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD", "SASL_PASSWORD_FILE",
    "SSL_CAFILE", "SSL_CERTFILE", "SSL_KEYFILE", "SSL_KEY_PASSWORD", "SSL_KEY_PASSWORD_FILE",
)
VARIABLES = tuple(PREFIX + name for name in SETTINGS)
_SASL_ONLY = ("SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD", "SASL_PASSWORD_FILE")
_TLS_ONLY = ("SSL_CAFILE", "SSL_CERTFILE", "SSL_KEYFILE", "SSL_KEY_PASSWORD", "SSL_KEY_PASSWORD_FILE")
_SECRETS = ("SASL_PASSWORD", "SSL_KEY_PASSWORD")


class KafkaSecurityError(ValueError):
    """The Kafka security variables contradict each other or name files that cannot be read."""


@dataclass(frozen=True)
class KafkaSecurity:
    """How this process authenticates to Kafka and encrypts the connection (see module docstring)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: str | None = None

    def __repr__(self) -> str:  # never print a password into a log line
        return (f"KafkaSecurity(protocol={self.protocol!r}, sasl_mechanism={self.sasl_mechanism!r}, "
                f"sasl_username={self.sasl_username!r}, ssl_cafile={self.ssl_cafile!r}, "
                f"ssl_certfile={self.ssl_certfile!r})")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSecurity:
        """Read and check the CARELEDGER_KAFKA_* variables (password files are read here)."""
        env = os.environ if environ is None else environ
        # Secrets keep their spaces; a trailing newline (a Secret made with --from-file) is dropped.
        raw = {name: env.get(PREFIX + name, "").rstrip("\r\n") if name in _SECRETS else
               env.get(PREFIX + name, "").strip() for name in SETTINGS}
        protocol = (raw["SECURITY_PROTOCOL"] or "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(f"{PREFIX}SECURITY_PROTOCOL={raw['SECURITY_PROTOCOL']!r}: "
                                     f"expected one of {', '.join(PROTOCOLS)}")
        _refuse_unused(raw, protocol)
        if not protocol.startswith("SASL_"):
            return cls(protocol=protocol, **_tls_fields(raw))
        mechanism = raw["SASL_MECHANISM"].upper()
        if mechanism not in MECHANISMS:
            raise KafkaSecurityError(f"{PREFIX}SASL_MECHANISM={raw['SASL_MECHANISM']!r}: "
                                     f"expected one of {', '.join(MECHANISMS)} with {protocol}")
        if not raw["SASL_USERNAME"]:
            raise KafkaSecurityError(f"{PREFIX}SASL_USERNAME is required with {protocol}")
        password = _secret(raw, "SASL_PASSWORD", required=True)
        return cls(protocol=protocol, sasl_mechanism=mechanism, sasl_username=raw["SASL_USERNAME"],
                   sasl_password=password, **_tls_fields(raw))

    def ssl_context(self):
        """A client SSLContext (hostname checked, certificate required), or None without TLS."""
        if not self.uses_tls:
            return None
        from aiokafka.helpers import create_ssl_context

        try:
            return create_ssl_context(cafile=self.ssl_cafile, certfile=self.ssl_certfile,
                                      keyfile=self.ssl_keyfile, password=self.ssl_key_password)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            files = {"SSL_CAFILE": self.ssl_cafile, "SSL_CERTFILE": self.ssl_certfile, "SSL_KEYFILE": self.ssl_keyfile}
            named = ", ".join(f"{PREFIX}{name}={path}" for name, path in files.items() if path) or "system CAs"
            raise KafkaSecurityError(f"cannot load the Kafka TLS files ({named}): {exc}") from exc

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (consumer, producer, admin, bare client)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_sasl:
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password)
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def faust_credentials(self):
        """`broker_credentials` for faust.App: None, SSLCredentials or SASLCredentials."""
        if self.protocol == "PLAINTEXT":
            return None
        import faust

        if not self.uses_sasl:
            return faust.SSLCredentials(self.ssl_context())
        # faust speaks SASL_SSL exactly when the credentials carry an SSL context.
        return faust.SASLCredentials(username=self.sasl_username, password=self.sasl_password,
                                     mechanism=self.sasl_mechanism, ssl_context=self.ssl_context())


def client_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The aiokafka keyword arguments of this process's Kafka security (empty-handed: PLAINTEXT)."""
    return KafkaSecurity.from_env(environ).aiokafka_options()


def _refuse_unused(raw: Mapping[str, str], protocol: str) -> None:
    """A setting the protocol ignores is a mistake (e.g. a password with PLAINTEXT): say so."""
    unused = []
    if not protocol.startswith("SASL_"):
        unused += [n for n in _SASL_ONLY if raw[n]]
    if protocol not in ("SSL", "SASL_SSL"):
        unused += [n for n in _TLS_ONLY if raw[n]]
    if unused:
        names = ", ".join(PREFIX + n for n in unused)
        raise KafkaSecurityError(f"{names} set, but {PREFIX}SECURITY_PROTOCOL is {protocol}, which ignores them")
    if raw["SSL_KEYFILE"] and not raw["SSL_CERTFILE"]:
        raise KafkaSecurityError(f"{PREFIX}SSL_KEYFILE needs {PREFIX}SSL_CERTFILE (the client certificate)")


def _tls_fields(raw: Mapping[str, str]) -> dict[str, str | None]:
    return {"ssl_cafile": raw["SSL_CAFILE"] or None, "ssl_certfile": raw["SSL_CERTFILE"] or None,
            "ssl_keyfile": raw["SSL_KEYFILE"] or None,
            "ssl_key_password": _secret(raw, "SSL_KEY_PASSWORD", required=False)}


def _secret(raw: Mapping[str, str], name: str, *, required: bool) -> str | None:
    """A secret given inline (NAME) or as a file (NAME_FILE, e.g. a mounted Secret), not both."""
    inline, path = raw[name], raw[name + "_FILE"]
    if inline and path:
        raise KafkaSecurityError(f"set {PREFIX}{name} or {PREFIX}{name}_FILE, not both")
    if path:
        try:
            inline = Path(path).read_text().rstrip("\r\n")
        except OSError as exc:
            raise KafkaSecurityError(f"{PREFIX}{name}_FILE={path}: {exc.strerror or exc}") from exc
    if required and not inline:
        raise KafkaSecurityError(f"{PREFIX}{name} (or {PREFIX}{name}_FILE) is required")
    return inline or None


__all__ = ["MECHANISMS", "PROTOCOLS", "VARIABLES", "KafkaSecurity", "KafkaSecurityError", "client_options"]
