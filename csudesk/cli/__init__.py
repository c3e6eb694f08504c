"""The command line: flask --app csudesk <group> <command>, one module per group.

The commands are an edge, like the blueprints: they parse options, call the domains' services
and print. The long-running ones (mail send --watch, audit anchor --watch) drive the workers.
"""

from flask import Flask


def register_commands(app: Flask) -> None:
    from csudesk.cli.agents import agents_cli
    from csudesk.cli.audit import audit_cli
    from csudesk.cli.demo import demo_cli
    from csudesk.cli.directory import directory_cli
    from csudesk.cli.mail import mail_cli
    from csudesk.cli.replies import replies_cli
    from csudesk.cli.roll import roll_cli

    for group in (directory_cli, roll_cli, mail_cli, audit_cli, agents_cli, demo_cli, replies_cli):
        app.cli.add_command(group)
