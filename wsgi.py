"""The WSGI entry point: `gunicorn wsgi:app`."""

from connector.web import create_app

app = create_app()
