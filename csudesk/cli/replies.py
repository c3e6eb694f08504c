"""flask --app csudesk replies ..."""

import click
from flask.cli import AppGroup

from csudesk.conversation.response_templates import NATIONAL_SEED, seed_national
from csudesk.extensions import db

replies_cli = AppGroup("replies", help="Réponses types: the national ones of the voter guide.")


@replies_cli.command("seed")
def seed():
    """Create the national réponses types of the voter guide that are missing (idempotent)."""
    created = seed_national()
    db.session.commit()
    present = len(NATIONAL_SEED) - created
    click.echo(
        f"Réponses types nationales créées : {created} ;"
        f" déjà présentes, laissées telles quelles : {present}."
    )
