"""A small offline imitation of the production service the runbooks call, for checkrunner's example.

``python -m demo serve`` answers the API of ``schedules.yaml`` on 127.0.0.1:8099 (and HTTPS on
127.0.0.1:8443) with changing, realistic numbers, writes ``demo-data/app.log`` and keeps
``demo-data/app.db``; ``python -m demo set CHECK MODE`` bends what one example check sees so
that it turns ok, warning, critical or unknown. Standard library only (plus ``cryptography`` or
the ``openssl`` CLI, once, for the private CA).

Rooms: ``model`` (numbers: traffic curve, random walks; pure), ``catalog`` (which example check
reads what, and what each mode does to it; pure), ``api`` (endpoint bodies; pure), ``appdata``
(the log file and the SQLite database), ``tlscerts`` (private CA and server certificates),
``server`` (HTTP/HTTPS, control endpoints, the ticker), ``__main__`` (the command line).
``monitoring_commands.py`` is a standalone script (runbook 003's ``scripts/monitoring_commands.py``).
"""

DEFAULT_PORT = 8099
DEFAULT_TLS_PORT = 8443
#: The SMTP sink the example's email channel sends to (``mailto://…@127.0.0.1:8025?mode=insecure``).
DEFAULT_SMTP_PORT = 8025
DEFAULT_DATA = "demo-data"
#: The example config's timezone: the traffic curve follows this wall clock.
DEFAULT_TZ = "America/Sao_Paulo"
