"""The web layer: FastAPI app factory, HTML pages, the JSON API and feeds."""
