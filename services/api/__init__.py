"""The HTTP API (FastAPI): thin routers over the application's commands."""
