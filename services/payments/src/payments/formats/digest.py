"""The fingerprint recorded for every generated bank file (PaymentFileGenerated.file_sha256)."""

import hashlib


def file_sha256(data: bytes) -> str:
    """Lower-case hex SHA-256 of the exact bytes sent to the bank."""
    return hashlib.sha256(data).hexdigest()
