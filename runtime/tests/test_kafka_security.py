"""careruntime.kafka_security: the CARELEDGER_KAFKA_* variables to aiokafka options and faust credentials.

No broker here: the mapping and its refusals only (tests/deploy/test_kafka_security_live.py connects for real).
"""
from __future__ import annotations

import ssl
import subprocess

import faust
import pytest
from careruntime.kafka_security import (
    MECHANISMS,
    PREFIX,
    KafkaSecurity,
    KafkaSecurityError,
    client_options,
)


def env(**settings: str) -> dict[str, str]:
    return {PREFIX + name.upper(): value for name, value in settings.items()}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed CA certificate and a client certificate + key, made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    for name in ("ca", "client"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", f"/CN=careledger-test-{name}", "-keyout", str(folder / f"{name}.key"),
                        "-out", str(folder / f"{name}.crt")], check=True, capture_output=True)
    return folder


def test_nothing_set_is_plaintext():
    assert KafkaSecurity.from_env({}) == KafkaSecurity()
    assert client_options({}) == {"security_protocol": "PLAINTEXT"}
    assert KafkaSecurity.from_env({}).faust_credentials() is None


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_sasl_plaintext_gives_the_mechanism_and_credentials(mechanism):
    options = client_options(env(security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                                 sasl_username="ledger", sasl_password="s3cret"))
    assert options == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism,
                       "sasl_plain_username": "ledger", "sasl_plain_password": "s3cret"}


def test_the_password_may_come_from_a_file(tmp_path):
    (tmp_path / "password").write_text("from-a-secret\n")
    security = KafkaSecurity.from_env(env(security_protocol="sasl_plaintext", sasl_mechanism="scram-sha-512",
                                          sasl_username="ledger", sasl_password_file=str(tmp_path / "password")))
    assert (security.protocol, security.sasl_mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert security.sasl_password == "from-a-secret"
    assert "from-a-secret" not in repr(security)


def test_a_password_keeps_its_spaces_but_not_a_trailing_newline():
    security = KafkaSecurity.from_env(env(security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
                                          sasl_username=" ledger ", sasl_password=" pass word \n"))
    assert (security.sasl_username, security.sasl_password) == ("ledger", " pass word ")


def test_ssl_builds_a_verifying_context_from_the_ca_and_client_certificate(tls_files):
    options = client_options(env(security_protocol="SSL", ssl_cafile=str(tls_files / "ca.crt"),
                                 ssl_certfile=str(tls_files / "client.crt"),
                                 ssl_keyfile=str(tls_files / "client.key")))
    assert options["security_protocol"] == "SSL" and "sasl_mechanism" not in options
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "careledger-test-ca"),),)]


def test_ssl_without_a_ca_file_trusts_the_system_cas():
    context = client_options(env(security_protocol="SSL"))["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_ssl_carries_both(tls_files):
    options = client_options(env(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-256",
                                 sasl_username="u", sasl_password="p", ssl_cafile=str(tls_files / "ca.crt")))
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_faust_credentials_match_the_protocol(tls_files):
    ca = str(tls_files / "ca.crt")
    sasl = env(sasl_mechanism="SCRAM-SHA-512", sasl_username="views", sasl_password="pw")
    plain = KafkaSecurity.from_env(env(security_protocol="SASL_PLAINTEXT", **{k[len(PREFIX):].lower(): v
                                                                              for k, v in sasl.items()}))
    creds = plain.faust_credentials()
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.protocol.value, creds.mechanism.value, creds.username, creds.password) == (
        "SASL_PLAINTEXT", "SCRAM-SHA-512", "views", "pw")
    over_tls = KafkaSecurity.from_env({**sasl, **env(security_protocol="SASL_SSL", ssl_cafile=ca)})
    assert over_tls.faust_credentials().protocol.value == "SASL_SSL"
    tls_only = KafkaSecurity.from_env(env(security_protocol="SSL", ssl_cafile=ca)).faust_credentials()
    assert isinstance(tls_only, faust.SSLCredentials) and tls_only.protocol.value == "SSL"


@pytest.mark.parametrize("settings, complaint", [
    ({"security_protocol": "TLS"}, "SECURITY_PROTOCOL='TLS'"),
    ({"security_protocol": "SASL_SSL", "sasl_username": "u", "sasl_password": "p"}, "SASL_MECHANISM"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI", "sasl_username": "u",
      "sasl_password": "p"}, "SASL_MECHANISM='GSSAPI'"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_password": "p"}, "SASL_USERNAME"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u"}, "SASL_PASSWORD"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password": "p", "sasl_password_file": "/etc/x"}, "not both"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password_file": "/nonexistent/password"}, "SASL_PASSWORD_FILE=/nonexistent/password"),
    ({"sasl_username": "u", "sasl_password": "p"}, "PLAINTEXT, which ignores them"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password": "p", "ssl_cafile": "/ca.crt"}, "SSL_CAFILE set, but"),
    ({"security_protocol": "SSL", "ssl_keyfile": "/k.pem"}, "SSL_KEYFILE needs"),
])
def test_contradictions_are_refused_naming_the_variable(settings, complaint):
    with pytest.raises(KafkaSecurityError) as caught:
        KafkaSecurity.from_env(env(**settings))
    assert complaint in str(caught.value)
    assert "p" not in str(caught.value).split() and "s3cret" not in str(caught.value)


def test_unreadable_tls_files_are_refused_when_the_context_is_built(tmp_path):
    security = KafkaSecurity.from_env(env(security_protocol="SSL", ssl_cafile=str(tmp_path / "missing.crt")))
    with pytest.raises(KafkaSecurityError, match="missing.crt"):
        security.aiokafka_options()


def test_the_process_environment_is_the_default(monkeypatch):
    for name, value in env(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="me",
                           sasl_password="pw").items():
        monkeypatch.setenv(name, value)
    assert client_options()["sasl_plain_username"] == "me"
