"""WSGI entry point: `gunicorn wsgi:app` (make run, deploy/csudesk.service).

Configuration comes from csudesk/config.py, instance/config.py and CSUDESK_* variables, as for
`flask --app csudesk`; CSUDESK_INSTANCE_PATH points at another instance folder.
"""

from csudesk import create_app

app = create_app()
