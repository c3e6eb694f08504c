"""The statistics dashboard: charts for a glance, the same figures as tables, and alerts."""

from flask import render_template, request

from csudesk.db import utcnow
from csudesk.directory.models import csu_short_name
from csudesk.elections.calendar import election
from csudesk.reporting import statistics
from csudesk.tickets.models import CATEGORY_LABELS

from . import charts
from .blueprint import bp, chosen_csu_ids, set_scope_choices
from .forms import PeriodForm
from .labels import action_label

CHANNELS = {"desk": "Guichet (agent)", "self_service": "Libre-service (électeur)"}
EXCHANGES = {
    statistics.REPLY: "Réponses envoyées",
    statistics.MAIL_IN: "Courriels reçus",
}
LINK_ROWS = {
    "activation": "Liens d'activation",
    "password_reset": "Liens de réassort du mot de passe",
    "vote_code": "Liens de réassort du code de vote",
}


def duration(seconds: float | None) -> str:
    """A duration for people: '45 min', '3 h 05', '2 j 4 h'."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours} h"


bp.add_app_template_filter(duration, "duree")


def from_first_busy_day(rows: list) -> tuple[list, int]:
    """The rows from the first day with a figure, and how many quiet days came before: a table
    and its chart start there, not after weeks of zeros."""
    quiet = next((i for i, (_, values) in enumerate(rows) if any(values)), len(rows))
    return rows[quiet:], quiet


@bp.get("/")
def dashboard():
    """Figures of the configured election (or the chosen period) for the scope."""
    form = PeriodForm(request.args)
    set_scope_choices(form)
    csu_ids = chosen_csu_ids(request.args.get("csu"))
    calendar = election()
    period, campaign = statistics.default_period(calendar, utcnow())
    valid = form.validate()
    if valid and (form.du.data or form.au.data):
        period = statistics.Period(form.du.data or period.first, form.au.data or period.last)
        campaign = False
        if period.last < period.first:
            form.au.errors.append("La date de fin précède la date de début.")
            valid = False
        elif (period.last - period.first).days >= statistics.MAX_PERIOD_DAYS:
            form.au.errors.append(f"Choisissez au plus {statistics.MAX_PERIOD_DAYS} jours.")
            valid = False
    if not valid:
        return render_template("supervision/dashboard.html", form=form, period=None), 400

    categories = list(CATEGORY_LABELS)
    series = statistics.series_period(period)
    per_day = statistics.tickets_per_day(series, csu_ids)
    day_rows = [
        (day, [per_day.get(day, {}).get(c, 0) for c in categories]) for day in series.days()
    ]
    day_rows, quiet_days = from_first_busy_day(day_rows)
    exchanges = statistics.events_per_day(series, csu_ids)
    exchange_rows, _ = from_first_busy_day(
        [(day, [exchanges.get(day, {}).get(k, 0) for k in EXCHANGES]) for day in series.days()]
    )
    backlog = statistics.backlog_by_csu(csu_ids)
    actions = statistics.actions_by_type(period, csu_ids)
    links = statistics.links_by_channel(period, csu_ids)
    link_rows = [
        (LINK_ROWS.get(p, p), [c.get("desk", 0), c.get("self_service", 0)])
        for p, c in links.items()
    ]
    return render_template(
        "supervision/dashboard.html",
        form=form,
        period=period,
        campaign=campaign,
        calendar=calendar,
        categories=[CATEGORY_LABELS[c] for c in categories],
        day_rows=day_rows,
        quiet_days=quiet_days,
        total_tickets=statistics.tickets_opened(period, csu_ids),
        series=series,
        series_tickets=sum(sum(v) for _, v in day_rows),
        period_days=len(period.days()),
        max_series_days=statistics.MAX_SERIES_DAYS,
        days_chart=charts.stacked_columns(
            [(d.strftime("%d/%m"), v) for d, v in day_rows],
            [CATEGORY_LABELS[c] for c in categories],
        ),
        backlog=backlog,
        backlog_chart=charts.horizontal_bars(
            [(csu_short_name(b.name), [b.open]) for b in backlog[:15]], ["Tickets ouverts"]
        ),
        resolution=statistics.resolution_times(period, csu_ids),
        first_answer=statistics.first_answer_times(period, csu_ids),
        times_by_csu=statistics.times_by_csu(period, csu_ids),
        exchange_series=list(EXCHANGES.values()),
        exchange_rows=exchange_rows,
        exchanges_chart=charts.stacked_columns(
            [(d.strftime("%d/%m"), v) for d, v in exchange_rows], list(EXCHANGES.values())
        ),
        actions=actions,
        actions_chart=charts.horizontal_bars(
            [(action_label(a), [n]) for a, n in actions[:12]], ["Actions"]
        ),
        link_rows=link_rows,
        channels=list(CHANNELS.values()),
        links_chart=charts.horizontal_bars(link_rows, list(CHANNELS.values())),
        reissues=statistics.vote_code_alerts(calendar.portal_opens, csu_ids),
        volume=statistics.agent_volume(period, csu_ids),
        recent_days=statistics.RECENT_DAYS,
    )
