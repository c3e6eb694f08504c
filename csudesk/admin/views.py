"""Agent administration for administrators: accounts of their scope, every change audited."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.agents import services as agents
from csudesk.agents.models import Agent, Role
from csudesk.agents.queries import list_agents
from csudesk.audit.queries import entries_about_agent
from csudesk.auth.guards import current_actor, require_role, scope, scope_covers
from csudesk.directory.models import CSU
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import choices, populate_errors

from .forms import NewAgentForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_role(bp, Role.ADMIN)


def _csu_choices(form: RoleForm) -> None:
    form.csu.choices = choices(
        (c.id, f"{c.name} [{c.code}]") for c in agents.scope_csus(current_user)
    )


def _agent_or_404(agent_id: int) -> Agent:
    agent = db.session.get(Agent, agent_id)
    if agent is None or not scope_covers(agent.csu_id):
        abort(404)
    return agent


@bp.get("/agents")
def agent_list():
    """Desk accounts of the administrator's scope, searchable by name or address."""
    text = request.args.get("q", "").strip()[:120]
    state = request.args.get("etat", "")
    found = list_agents(
        scope(),
        text=text,
        active=(state == "actifs") if state in ("actifs", "desactives") else None,
    )
    return render_template("admin/agents.html", agents=found, q=text, state=state)


@bp.route("/agents/nouveau", methods=["GET", "POST"])
def new_agent():
    """Create an account; the agent chooses a password through a mailed one-time link."""
    form = NewAgentForm()
    _csu_choices(form)
    if form.validate_on_submit():
        actor = current_actor()
        try:
            agent = agents.create_agent(
                actor,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                csu=db.session.get(CSU, form.csu.data),
            )
            agents.reset_password(actor, agent)
        except ServiceError as exc:
            uow.discard()
            populate_errors(form, exc, "email")
        else:
            flash(
                f"Compte créé ; un lien pour choisir le mot de passe part à {agent.email}.",
                "success",
            )
            return redirect(url_for("admin.agent", agent_id=agent.id))
    return render_template("admin/new_agent.html", form=form), 400 if form.errors else 200


def _agent_page(agent: Agent, role_form: RoleForm | None = None, status: int = 200):
    if role_form is None:
        role_form = RoleForm(formdata=None, role=agent.role, csu=agent.csu_id)
    _csu_choices(role_form)
    entries = entries_about_agent(agent.id)
    return render_template(
        "admin/agent.html", agent=agent, role_form=role_form, entries=entries
    ), status


@bp.get("/agents/<int:agent_id>")
def agent(agent_id: int):
    """One account: its state, the changes an administrator can make, its latest entries."""
    return _agent_page(_agent_or_404(agent_id))


@bp.post("/agents/<int:agent_id>/role")
def change_role(agent_id: int):
    """Change the role and CSU scope; the agent's sessions end at once."""
    agent = _agent_or_404(agent_id)
    form = RoleForm()
    _csu_choices(form)
    if not form.validate():
        return _agent_page(agent, form, 400)
    try:
        agents.change_role_and_scope(
            current_actor(), agent, form.role.data, db.session.get(CSU, form.csu.data)
        )
    except ServiceError as exc:
        uow.discard()
        populate_errors(form, exc, "role")
        return _agent_page(agent, form, 400)
    flash(f"Rôle et périmètre de {agent.name} enregistrés ; ses sessions sont closes.", "success")
    return redirect(url_for("admin.agent", agent_id=agent.id))


@bp.post("/agents/<int:agent_id>/activation")
def set_active(agent_id: int):
    """Disable or re-enable an account (takes effect on the agent's next request)."""
    agent = _agent_or_404(agent_id)
    active = request.form.get("actif") == "1"
    try:
        agents.set_active(current_actor(), agent, active)
    except ServiceError as exc:
        uow.discard()
        flash(str(exc), "error")
        return redirect(url_for("admin.agent", agent_id=agent.id))
    flash(f"Compte de {agent.name} {'réactivé' if active else 'désactivé'}.", "success")
    return redirect(url_for("admin.agent", agent_id=agent.id))


@bp.post("/agents/<int:agent_id>/mot-de-passe")
def reset_password(agent_id: int):
    """End the current password and mail a one-time link to choose a new one."""
    agent = _agent_or_404(agent_id)
    if agent.id == current_user.id:
        flash("Pour votre propre compte, demandez à un autre administrateur.", "error")
        return redirect(url_for("admin.agent", agent_id=agent.id))
    try:
        agents.reset_password(current_actor(), agent)
    except ServiceError as exc:
        uow.discard()
        flash(str(exc), "error")
        return redirect(url_for("admin.agent", agent_id=agent.id))
    flash(f"Mot de passe réinitialisé ; un lien part à {agent.email}.", "success")
    return redirect(url_for("admin.agent", agent_id=agent.id))
