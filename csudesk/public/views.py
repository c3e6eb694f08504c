"""Public pages for voters: home and "Trouver ma CSU" (no sign-in, no JavaScript needed)."""

from flask import Blueprint, abort, render_template, request

from csudesk.directory.services import RoutingError, route_uai, search_establishments
from csudesk.directory.uai import InvalidUAI, normalize_uai
from csudesk.extensions import limiter

bp = Blueprint("public", __name__)

MAX_QUERY_LENGTH = 120


@bp.get("/")
def index():
    """Home page for voters."""
    return render_template("public/index.html")


def _looks_like_uai(query: str) -> bool:
    code = normalize_uai(query)
    return len(code) in (7, 8, 9) and code[:7].isdigit()


@bp.get("/trouver-ma-csu")
@limiter.limit("120 per minute")
def find_csu():
    """Search an establishment by UAI, name or city and show the CSU to contact."""
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    route, error, results = None, None, []
    if query:
        if _looks_like_uai(query):
            try:
                route = route_uai(query)
            except (InvalidUAI, RoutingError) as exc:
                error = str(exc)
        else:
            results = search_establishments(query)
    return render_template(
        "public/find_csu.html", query=query, route=route, error=error, results=results
    )


@bp.get("/trouver-ma-csu/<uai>")
def establishment_csu(uai: str):
    """The CSU of one establishment (link target of the search results)."""
    try:
        route = route_uai(uai)
    except (InvalidUAI, RoutingError):
        abort(404)
    return render_template("public/find_csu.html", query=route.uai, route=route, results=[])
