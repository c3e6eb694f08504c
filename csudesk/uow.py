"""One unit of work per request, at the edge (indico's `RH.process`).

Services only `flush()`. Every view runs inside `unit_of_work`: when it returns, the request's
transaction is committed once; when it raises, everything it wrote is rolled back. A view
whose service refused half-way calls `discard()` before it answers (and may then write what
the refusal itself leaves, an audit entry); a page that should not hold the transaction (on
SQLite, the write lock) while its template renders commits first with `commit_then_render`.
The long-running workers (mail/worker.py, access/worker.py, the roll import) own their
transactions: they run outside any request.

A GET page whose writes are appends done after its reads (the voter file's audit entry and
page view) is marked `reads_first`: on SQLite its reads then run without the write lock, which
its writes take only once `csudesk.db.end_reads` has closed the reads (csudesk/db.py).
"""

from collections.abc import Callable
from functools import wraps

from flask import Flask, render_template, request

from csudesk import db as database
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


def reads_first(view: Callable) -> Callable:
    """Mark a GET view that reads everything first, then only appends (end_reads before)."""
    view.reads_first = True
    return view


def register_unit_of_work(app: Flask) -> None:
    """Wrap every view of the app (called once the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = unit_of_work(view)

    def start_reads_if_marked() -> None:
        view = app.view_functions.get(request.endpoint)
        if request.method in ("GET", "HEAD") and getattr(view, "reads_first", False):
            database.start_reads_first()

    # Before every other hook: the signed-in agent is loaded by them, in the reads.
    app.before_request_funcs.setdefault(None, []).insert(0, start_reads_if_marked)
    app.teardown_request(lambda error: database.forget_reads_first())


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
