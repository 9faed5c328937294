"""Dashboard pages: routers that render the Jinja2 templates in ``garrison/web/templates``."""
