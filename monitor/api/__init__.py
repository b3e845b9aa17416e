"""The HTTP API (FastAPI): ingestion for integrators, queries and the /wall page for supervisors."""
