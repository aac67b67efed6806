"""The WSGI entry point gunicorn loads in each worker: ``ledger.wsgi:app``."""

from ledger.app import create_app

app = create_app()
