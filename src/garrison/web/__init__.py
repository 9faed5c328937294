"""The web edge: a JSON API under ``/api/v1`` and the dashboard pages, in one FastAPI app.

``create_app`` builds it; ``garrison.web.server`` runs it with uvicorn.
"""

from garrison.web.app import create_app

__all__ = ["create_app"]
