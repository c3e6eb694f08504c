"""One unit of work per request, at the edge (indico's `RH.process`).

Services only `flush()`. Every view runs inside `unit_of_work`: when it returns, the request's
transaction is committed once; when it raises, everything it wrote is rolled back. A view
whose service refused half-way calls `discard()` before it answers (and may then write what
the refusal itself leaves, an audit entry); a page that should not hold the transaction (on
SQLite, the write lock) while its template renders commits first with `commit_then_render`.
The long-running workers (mail/worker.py, access/worker.py, the roll import) own their
transactions: they run outside any request.
"""

from collections.abc import Callable
from functools import wraps

from flask import Flask, render_template

from csudesk.extensions import db


def unit_of_work(view: Callable) -> Callable:
    """Commit what `view` wrote once it returns; roll it back if it raises."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return response

    return run


def register_unit_of_work(app: Flask) -> None:
    """Wrap every view of the app (called once the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = unit_of_work(view)


def commit_now() -> None:
    """Commit what the request wrote so far (before a read-only unit of work, say)."""
    db.session.commit()


def discard() -> None:
    """Drop what this request wrote so far: a service refused the action half-way."""
    db.session.rollback()


def commit_then_render(template: str, status: int = 200, **context):
    """End the unit of work, then render: the transaction lasts as long as the queries."""
    commit_now()
    return render_template(template, **context), status
