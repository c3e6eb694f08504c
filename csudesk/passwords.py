"""The password policy, and slow hashes (argon2id) for passwords and challenge answers."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from csudesk.exceptions import ServiceError

# One policy for the agents' and the voters' passwords: length only (passphrases welcome).
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def check_password_policy(password: str) -> None:
    """Refuse a new password outside the policy (ServiceError on the "password" field)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.", "password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ServiceError(
            f"Le mot de passe ne peut dépasser {MAX_PASSWORD_LENGTH} caractères.", "password"
        )


# Tests lower the cost through ARGON2_PROFILE="fast"; production keeps the library defaults.
PROFILES = {
    "default": {},
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


@cache
def _hasher(profile: str) -> PasswordHasher:
    return PasswordHasher(**PROFILES[profile])


def hasher() -> PasswordHasher:
    return _hasher(current_app.config.get("ARGON2_PROFILE", "default"))


def hash_secret(secret: str) -> str:
    return hasher().hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Check a secret; with no stored hash, spend the same time on a decoy and say no."""
    if stored_hash is None:
        stored_hash = _decoy(current_app.config.get("ARGON2_PROFILE", "default"))
        _verify(stored_hash, secret)
        return False
    return _verify(stored_hash, secret)


def _verify(stored_hash: str, secret: str) -> bool:
    try:
        return hasher().verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy(profile: str) -> str:
    return _hasher(profile).hash("csudesk decoy secret")
