"""gunicorn settings, from the environment (``gunicorn -c python:ledger.gunicorn_conf``)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# The application writes its own request lines, with the correlation id; no second access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn >= 25 opens a control socket under $HOME; the image's home is read-only and nothing
# in a container manages workers at run time.
control_socket_disable = True
