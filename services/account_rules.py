"""Input rules for accounts: usernames (Instagram's), emails, passwords, profile fields.
Each check returns the normalized value or raises BadInput naming the field and the reason."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.errors import BadInput

USERNAME_MAX = 30
FULL_NAME_MAX = 64
BIO_MAX = 150
WEBSITE_MAX = 200
EMAIL_MAX = 254
PASSWORD_MIN = 8
# argon2 hashes any length, but a megabyte password is a denial-of-service vector.
PASSWORD_MAX = 256

_USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "iloveyou",
        "11111111",
        "00000000",
        "abc12345",
        "letmein1",
        "welcome1",
        "instagram",
        "photogram",
    }
)


def check_username(raw: str) -> str:
    """Instagram's rules: 1-30 of letters, digits, `.` and `_`; no leading or trailing dot; no
    `..`. Returned as typed; uniqueness is on its lowercase form."""
    name = raw.strip()
    if not _USERNAME.match(name):
        reason = (
            "must be 1 to 30 characters"
            if not 1 <= len(name) <= USERNAME_MAX
            else "may contain only letters, digits, periods and underscores"
        )
        raise BadInput(f"Username {reason}", field="username")
    if name.startswith(".") or name.endswith("."):
        raise BadInput("Username cannot start or end with a period", field="username")
    if ".." in name:
        raise BadInput("Username cannot contain consecutive periods", field="username")
    return name


def normalize_email(raw: str) -> str:
    """Trimmed and lowercased: addresses differing only in case are one account."""
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise BadInput("Enter a valid email address", field="email")
    return email


def check_password(password: str, username: str, email: str | None = None) -> str:
    if len(password) < PASSWORD_MIN:
        raise BadInput(
            f"Password must be at least {PASSWORD_MIN} characters", field="password", reason="SHORT"
        )
    if len(password) > PASSWORD_MAX:
        raise BadInput(
            f"Password must be at most {PASSWORD_MAX} characters", field="password", reason="LONG"
        )
    lowered = password.lower()
    if lowered == username.lower() or (email and lowered in (email, email.split("@")[0])):
        raise BadInput(
            "Password must not be your username or email", field="password", reason="PERSONAL"
        )
    if lowered in _COMMON_PASSWORDS or len(set(password)) < 3:
        raise BadInput("Password is too easy to guess", field="password", reason="COMMON")
    return password


def check_full_name(raw: str) -> str:
    name = " ".join(raw.split())
    if len(name) > FULL_NAME_MAX:
        raise BadInput(f"Name must be at most {FULL_NAME_MAX} characters", field="fullName")
    return name


def check_bio(raw: str) -> str:
    bio = raw.strip()
    if len(bio) > BIO_MAX:
        raise BadInput(f"Bio must be at most {BIO_MAX} characters", field="bio")
    return bio


def check_website(raw: str | None) -> str | None:
    """An http(s) URL, or empty to clear. A bare host gets https:// in front."""
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if (
        len(url) > WEBSITE_MAX
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(c.isspace() for c in url)
    ):
        raise BadInput("Website must be an http(s) address", field="website")
    return url
