"""python -m reporting.web {serve|keygen|openapi}: run the HTTP API and dashboard, make an access key, or
print the OpenAPI document (the committed copy, web/openapi.json, is checked against it by a test).

    python -m reporting.web serve                      # REPORTING_DATABASE_URL, REPORTING_API_KEYS, ...
    python -m reporting.web keygen --council C1 --role auditor [--label "External audit 2026"]
    python -m reporting.web openapi > services/reporting/src/reporting/web/openapi.json
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reporting.web")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the API and dashboard (settings from REPORTING_* variables)")
    keygen = sub.add_parser("keygen", help="print a new key and the REPORTING_API_KEYS entry for it")
    keygen.add_argument("--council", required=True)
    keygen.add_argument("--role", choices=["finance", "auditor"], required=True)
    keygen.add_argument("--label", default="")
    sub.add_parser("openapi", help="print the OpenAPI document of the API")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        from .app import openapi_document
        print(openapi_document(), end="")
        return 0
    if args.command == "keygen":
        from .access import new_key
        key, digest = new_key()
        print(f"key (give to the holder, store nowhere else): {key}")
        entry = {"key_sha256": digest, "council_id": args.council, "role": args.role, "label": args.label}
        print(f"REPORTING_API_KEYS entry: {json.dumps(entry)}")
        return 0
    import uvicorn
    from careruntime.logging import configure_logging

    from .app import create_app
    from .config import WebSettings

    settings = WebSettings()
    configure_logging("reporting-web", settings.log_level)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None,
                proxy_headers=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
