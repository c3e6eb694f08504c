"""The anchor of the HTTP figures: a bare Flask app under the same gunicorn set-up.

GET /electeur?courriel=... runs one indexed query through the raw driver (sqlite3 or psycopg,
one connection per worker) and renders a template compiled once. POST /formulaire answers a
bare POST. It imports nothing from csudesk.

    gunicorn 'bench.anchor_app:create_app()'   # BENCH_ANCHOR_KIND=sqlite|postgresql,
                                              # BENCH_ANCHOR_TARGET=path or libpq URL
"""

import os
import sqlite3

from flask import Flask, request
from jinja2 import Environment

VOTER_SQL = (
    "SELECT v.roll_id, v.last_name, v.first_name, v.notice_delivery, e.uai, e.name, e.city"
    " FROM voter_email a JOIN voter v ON v.id = a.voter_id"
    " JOIN establishment e ON e.id = v.establishment_id WHERE a.address = {p}"
)
PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ first_name }} {{ last_name }}</title></head>
<body><main>
<h1>{{ first_name }} {{ last_name }}</h1>
<dl>
<dt>Identifiant</dt><dd>{{ roll_id }}</dd>
<dt>Établissement</dt><dd>{{ name or uai }} ({{ uai }}) {{ city or "" }}</dd>
<dt>Notice de vote</dt><dd>{{ notice_delivery }}</dd>
</dl>
</main></body></html>
"""
COLUMNS = ("roll_id", "last_name", "first_name", "notice_delivery", "uai", "name", "city")


def create_app() -> Flask:
    kind = os.environ["BENCH_ANCHOR_KIND"]
    target = os.environ["BENCH_ANCHOR_TARGET"]
    template = Environment(autoescape=True).from_string(PAGE)
    sql = VOTER_SQL.format(p="?" if kind == "sqlite" else "%s")
    state: dict = {}

    def connection():
        # Opened in the worker, after gunicorn's fork.
        if "connection" not in state:
            if kind == "sqlite":
                state["connection"] = sqlite3.connect(target, check_same_thread=False)
            else:
                import psycopg

                state["connection"] = psycopg.connect(target, autocommit=True)
        return state["connection"]

    app = Flask(__name__)

    @app.get("/electeur")
    def voter():
        row = connection().execute(sql, (request.args.get("courriel", ""),)).fetchone()
        if row is None:
            return "introuvable", 404
        return template.render(dict(zip(COLUMNS, row, strict=True)))

    @app.post("/formulaire")
    def form():
        return "reçu", 200

    return app
