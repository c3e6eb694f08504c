"""Réponses types for supervisors: the national ones, each cell's own, their changes."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.agents.services import scope_csus
from csudesk.auth.guards import current_actor
from csudesk.conversation import response_templates as templates
from csudesk.conversation.models import ResponseTemplate
from csudesk.directory.services import csu_by_code
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import choices, populate_errors
from csudesk.tickets.models import CATEGORY_LABELS

from .blueprint import bp, chosen_csu_ids, set_scope_choices
from .forms import CellFilterForm, ResponseTemplateForm

NATIONAL = "national"


def category_label(category: str | None) -> str:
    """The situation a réponse type answers, as the ticket categories name them."""
    return CATEGORY_LABELS.get(category, category) if category else "Toutes les situations"


def _template_or_404(template_id: int) -> ResponseTemplate:
    """A réponse type the supervisor may read (national, or of its scope); 404 otherwise."""
    template = db.session.get(ResponseTemplate, template_id)
    if template is None or not templates.can_read(current_user, template):
        abort(404)
    return template


def _manageable_or_403(template_id: int) -> ResponseTemplate:
    template = _template_or_404(template_id)
    if not templates.can_manage(current_user, template.csu_id):
        abort(403)
    return template


def _owner_choices(form: ResponseTemplateForm) -> None:
    """National (for national supervisors) and the cells of the scope, the national one aside."""
    options = []
    if templates.can_manage(current_user, None):
        options.append((NATIONAL, "Toutes les cellules (réponse type nationale)"))
    options += [
        (c.code, f"{c.name} [{c.code}]") for c in scope_csus(current_user) if not c.is_national
    ]
    form.owner.choices = choices(options)


def _render_form(form, template: ResponseTemplate | None, status: int = 200):
    return render_template(
        "supervision/response_template_form.html",
        form=form,
        template=template,
        placeholders=templates.PLACEHOLDERS,
        editable=template is None or templates.can_manage(current_user, template.csu_id),
        editor=templates.editors_of([template]).get(template.updated_by_agent_id)
        if template is not None
        else None,
        category_label=category_label,
    ), status


@bp.get("/reponses-types")
def response_templates():
    """The national réponses types, then each cell's of the scope (or of the cell picked)."""
    form = CellFilterForm(request.args)
    set_scope_choices(form)
    csu_ids = chosen_csu_ids(request.args.get("csu"))
    picked = next(iter(csu_ids)) if request.args.get("csu") else None
    listing = templates.templates_for_management(current_user, picked)
    everything = listing.national + [t for _, group in listing.per_csu for t in group]
    return render_template(
        "supervision/response_templates.html",
        form=form,
        national=listing.national,
        per_csu=listing.per_csu,
        editors=templates.editors_of(everything),
        manages_national=templates.can_manage(current_user, None),
        can_create=templates.can_manage(current_user, None)
        or any(not c.is_national for c in scope_csus(current_user)),
        picked=request.args.get("csu") or "",
        category_label=category_label,
    )


@bp.route("/reponses-types/nouvelle", methods=["GET", "POST"])
def new_response_template():
    """Write a new réponse type, national or of a cell of the scope."""
    form = ResponseTemplateForm()
    _owner_choices(form)
    if not form.owner.choices:
        abort(403)
    if request.method == "GET" and request.args.get("csu"):
        form.owner.data = request.args["csu"]
    if form.validate_on_submit():
        owner = None if form.owner.data == NATIONAL else csu_by_code(form.owner.data)
        try:
            template = templates.create_template(
                current_actor(),
                csu=owner,
                title=form.title.data,
                body=form.body.data,
                category=form.category.data or None,
            )
        except ServiceError as exc:
            uow.discard()
            populate_errors(form, exc)
        else:
            flash(f"Réponse type « {template.title} » créée.", "success")
            return redirect(url_for("supervision.response_templates") + "#confirmation")
    return _render_form(form, None, 400 if form.errors else 200)


@bp.route("/reponses-types/<int:template_id>", methods=["GET", "POST"])
def response_template(template_id: int):
    """One réponse type: its form for who keeps it, read-only for the other supervisors."""
    template = _template_or_404(template_id)
    if request.method == "POST":
        template = _manageable_or_403(template_id)
        form = ResponseTemplateForm()
    else:
        form = ResponseTemplateForm(
            formdata=None,
            title=template.title,
            category=template.category or "",
            body=template.body,
        )
    del form.owner
    if form.validate_on_submit():
        try:
            changed = templates.update_template(
                current_actor(),
                template,
                title=form.title.data,
                body=form.body.data,
                category=form.category.data or None,
            )
        except ServiceError as exc:
            uow.discard()
            populate_errors(form, exc)
        else:
            flash(
                f"Réponse type « {template.title} » enregistrée."
                if changed
                else "Aucune modification : la réponse type est inchangée.",
                "success" if changed else "info",
            )
            return redirect(url_for("supervision.response_templates") + "#confirmation")
    return _render_form(form, template, 400 if form.errors else 200)


@bp.post("/reponses-types/<int:template_id>/etat")
def set_response_template_active(template_id: int):
    """Deactivate a réponse type (kept, no longer offered at the desk) or reactivate it."""
    template = _manageable_or_403(template_id)
    active = request.form.get("actif") == "1"
    try:
        templates.set_template_active(current_actor(), template, active)
    except ServiceError as exc:
        uow.discard()
        flash(str(exc), "error")
    else:
        flash(
            f"Réponse type « {template.title} » {'réactivée' if active else 'désactivée'}.",
            "success",
        )
    return redirect(url_for("supervision.response_templates") + "#confirmation")
