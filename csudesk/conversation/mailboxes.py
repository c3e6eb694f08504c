"""The CSU mailboxes of configuration (CSU_MAILBOXES), checked before anything is fetched.

`load_mailboxes` is called when `mail fetch` starts, not when the app is built: a mistake in
one entry stops the command with every problem listed, and the web app never needs them.
Passwords come from the environment (or instance/config.py, a file): never from the database.
"""

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

SECURITIES = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
IMAP_KEYS = {
    "csu",
    "host",
    "port",
    "security",
    "username",
    "password",
    "password_env",
    "folder",
    "allow_plain",
    "ca_file",
}
MAILDIR_KEYS = {"csu", "maildir"}


class MailboxConfigError(ValueError):
    """CSU_MAILBOXES is wrong; the message lists every problem, in French."""


@dataclass(frozen=True)
class Mailbox:
    """One mailbox to read: IMAP (host set) or a local Maildir folder (maildir set)."""

    name: str
    csu: str
    host: str | None = None
    port: int = 993
    security: str = "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    folder: str = "INBOX"
    ca_file: str | None = None
    maildir: Path | None = None

    @property
    def is_maildir(self) -> bool:
        return self.maildir is not None

    @property
    def where(self) -> str:
        """Where it is read from, as the command prints it (no credentials)."""
        if self.maildir is not None:
            return f"Maildir {self.maildir}"
        return (
            f"imap{'s' if self.security == 'tls' else ''}://{self.host}:{self.port}/{self.folder}"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_mailboxes(
    config: dict, instance_path: str | Path, environ: dict | None = None
) -> list[Mailbox]:
    """Every mailbox of `config` (CSU_MAILBOXES), or MailboxConfigError naming each mistake."""
    environ = os.environ if environ is None else environ
    if not isinstance(config, dict):
        raise MailboxConfigError(
            "CSU_MAILBOXES doit être un dictionnaire {nom de la boîte: réglages}."
        )
    mailboxes, problems = [], []
    for name, entry in config.items():
        try:
            mailboxes.append(parse_mailbox(name, entry, Path(instance_path), environ))
        except MailboxConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise MailboxConfigError("\n".join(problems))
    return mailboxes


def parse_mailbox(name: str, entry: dict, instance_path: Path, environ) -> Mailbox:
    """One entry of CSU_MAILBOXES; relative Maildir paths are in the instance folder."""
    where = f"CSU_MAILBOXES[{name!r}]"
    if not isinstance(name, str) or not name or len(name) > 60:
        raise MailboxConfigError(f"{where} : le nom d'une boîte fait de 1 à 60 caractères.")
    if not isinstance(entry, dict):
        raise MailboxConfigError(f"{where} : un dictionnaire de réglages est attendu.")
    problems = []
    csu = entry.get("csu")
    if not isinstance(csu, str) or not csu:
        problems.append('"csu" (le code de la CSU de la boîte, ex. "AC-09") manque.')
    if "maildir" in entry:
        unknown = set(entry) - MAILDIR_KEYS
        if unknown:
            problems.append(f"réglages inconnus pour un Maildir : {', '.join(sorted(unknown))}.")
        if not isinstance(entry["maildir"], str) or not entry["maildir"]:
            problems.append('"maildir" doit être le chemin d\'un dossier.')
        if problems:
            raise MailboxConfigError(f"{where} : " + " ".join(problems))
        return Mailbox(name=name, csu=csu, maildir=instance_path / entry["maildir"])

    unknown = set(entry) - IMAP_KEYS
    if unknown:
        problems.append(f"réglages inconnus : {', '.join(sorted(unknown))}.")
    host = entry.get("host")
    if not isinstance(host, str) or not host:
        problems.append('"host" (serveur IMAP) ou "maildir" (dossier local) est requis.')
    security = entry.get("security", "tls")
    if security not in SECURITIES:
        problems.append(f'"security" vaut "tls", "starttls" ou "plain" (reçu : {security!r}).')
    elif (
        security == "plain"
        and isinstance(host, str)
        and not is_loopback(host)
        and entry.get("allow_plain") is not True
    ):
        problems.append(
            f'"security": "plain" enverrait le mot de passe en clair à {host} : utilisez "tls"'
            ' ou "starttls" (ou "allow_plain": True pour un serveur joint par un réseau sûr).'
        )
    port = entry.get("port", DEFAULT_PORTS.get(security, 993))
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.append(f'"port" doit être un numéro de port (reçu : {port!r}).')
    username = entry.get("username")
    if not isinstance(username, str) or not username:
        problems.append('"username" manque.')
    password = _password(entry, environ, problems)
    folder = entry.get("folder", "INBOX")
    if not isinstance(folder, str) or not folder:
        problems.append('"folder" doit être le nom d\'un dossier IMAP.')
    ca_file = entry.get("ca_file")
    if ca_file is not None and not (isinstance(ca_file, str) and os.path.isfile(ca_file)):
        problems.append(f'"ca_file" : fichier introuvable ({ca_file!r}).')
    if problems:
        raise MailboxConfigError(f"{where} : " + " ".join(problems))
    return Mailbox(
        name=name,
        csu=csu,
        host=host,
        port=port,
        security=security,
        username=username,
        password=password,
        folder=folder,
        ca_file=ca_file,
    )


def _password(entry: dict, environ, problems: list[str]) -> str | None:
    if "password" in entry and "password_env" in entry:
        problems.append('donnez "password_env" ou "password", pas les deux.')
        return None
    if "password_env" in entry:
        variable = entry["password_env"]
        value = environ.get(variable) if isinstance(variable, str) else None
        if not value:
            problems.append(f"la variable d'environnement {variable} (mot de passe) est vide.")
        return value
    if isinstance(entry.get("password"), str) and entry["password"]:
        return entry["password"]
    problems.append(
        '"password_env" (variable d\'environnement du mot de passe) manque ; à défaut'
        ' "password" dans instance/config.py, jamais dans la base.'
    )
    return None
