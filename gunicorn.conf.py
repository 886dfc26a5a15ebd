"""gunicorn settings for `make serve-prod` (read by gunicorn from the working directory).

Threads, not only processes: a participant's request mostly waits on the database or streams a
video, so 2 workers per core with 4 threads each keep the cores busy without the memory of many
processes. Every value can be changed from the environment (WEB_CONCURRENCY, WEB_THREADS, BIND,
WEB_TIMEOUT) or on the command line.
"""

import multiprocessing
import os

wsgi_app = "studyapp.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
# A long video on a slow connection must not be cut off; a stuck request is still ended.
timeout = int(os.environ.get("WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
