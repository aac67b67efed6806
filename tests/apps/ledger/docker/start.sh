#!/bin/sh
# Container entry point: settings check, wait for the database, migrate, seed; then gunicorn
# replaces this shell as PID 1 so it receives SIGTERM itself and shuts down gracefully.
set -eu
python -m ledger.prestart
exec gunicorn --config python:ledger.gunicorn_conf ledger.wsgi:app
