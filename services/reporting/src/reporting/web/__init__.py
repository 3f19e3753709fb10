"""The reporting service's interface for people and machines: HTTP API (FastAPI, OpenAPI), access control,
HTML report pages with server-rendered SVG charts, and the read-only dashboard (GOV.UK Design System)."""
