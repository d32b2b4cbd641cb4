"""Where the command line finds the server and the credentials.

For each setting the first that has it wins: the command-line option, the environment
(``DELTACLOUD_URL``, ``DELTACLOUD_USER``, ``DELTACLOUD_PASSWORD``, ``DELTACLOUD_DRIVER``,
``DELTACLOUD_PROVIDER``, ``DELTACLOUD_PROFILE``), the profile in the config file, a default.
The password never comes from the command line (it would show in ``ps``) nor from the file: from
``DELTACLOUD_PASSWORD``, the environment variable the profile names (``password-env``), the
system keyring (``password-keyring = true``; service ``deltacloud:<url>``, user name = the user),
else a prompt when a person is at the terminal.

The config file (``DELTACLOUD_CONFIG``, else ``config.toml`` in the user's config directory,
``~/.config/deltacloud/`` on Linux)::

    default = "lab"

    [profiles.lab]
    url = "http://deltacloud.example.com:3001"
    user = "mockuser"
    password-env = "LAB_PASSWORD"
    driver = "mock"

    [profiles.aws-eu]
    url = "http://deltacloud.example.com:3001"
    user = "AKIA..."
    password-keyring = true
    driver = "ec2"
    provider = "eu-west-1"
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["ConfigError", "Connection", "Profile", "config_path", "keyring_service", "load_profiles", "resolve"]

KNOWN_KEYS = {"url", "user", "password-env", "password-keyring", "driver", "provider", "output", "format"}


class ConfigError(click.UsageError):
    """A config file or profile that cannot be used as it is."""


@dataclass(frozen=True)
class Profile:
    name: str
    url: str | None = None
    user: str | None = None
    password_env: str | None = None
    password_keyring: bool = False
    driver: str | None = None
    provider: str | None = None
    output: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class Connection:
    """Everything needed to make a client (``password`` stays in memory only)."""

    name: str
    url: str
    user: str | None
    password: str | None
    driver: str | None
    provider: str | None
    format: str


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("DELTACLOUD_CONFIG"):
        return Path(env["DELTACLOUD_CONFIG"])
    return Path(click.get_app_dir("deltacloud")) / "config.toml"


def load_profiles(path: Path) -> tuple[dict[str, Profile], str | None]:
    """The profiles of the config file and its ``default``; none when the file does not exist."""
    if not path.exists():
        return {}, None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    profiles: dict[str, Profile] = {}
    for name, table in (doc.get("profiles") or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [profiles.{name}] must be a table")
        if "password" in table:
            raise ConfigError(f"{path}: profile '{name}' has a password in the file; passwords are never kept in "
                              f"files: remove it and use password-env = \"VARIABLE\" or password-keyring = true")
        unknown = sorted(set(table) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"{path}: profile '{name}' has unknown keys {unknown} (known: {sorted(KNOWN_KEYS)})")
        profiles[name] = Profile(name, table.get("url"), table.get("user"), table.get("password-env"),
                                 bool(table.get("password-keyring", False)), table.get("driver"), table.get("provider"),
                                 table.get("output"), table.get("format"))
    default = doc.get("default")
    if default is not None and default not in profiles:
        raise ConfigError(f"{path}: default = '{default}' names no profile (profiles: {sorted(profiles) or 'none'})")
    return profiles, default


def keyring_service(url: str) -> str:
    return f"deltacloud:{url.rstrip('/')}"


def _keyring_password(url: str, user: str) -> str | None:
    try:
        import keyring
    except ImportError:
        raise ConfigError("password-keyring = true needs the keyring package: "
                          "pip install 'deltacloud-client[keyring]'") from None
    found: str | None = keyring.get_password(keyring_service(url), user)
    return found


def _prompt(name: str, user: str | None) -> str | None:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    answer: str = click.prompt(f"Password for {user or 'the server'} ({name})", hide_input=True, err=True,
                               default="", show_default=False)
    return answer or None


def resolve(profile_name: str | None, *, options: Mapping[str, Any], env: Mapping[str, str] | None = None,
            profiles: Mapping[str, Profile], default: str | None,
            prompt: Callable[[str, str | None], str | None] = _prompt) -> Connection:
    env = os.environ if env is None else env
    name = profile_name or env.get("DELTACLOUD_PROFILE") or default
    if name is not None and name not in profiles:
        raise ConfigError(f"no profile '{name}' (profiles: {', '.join(sorted(profiles)) or 'none'}; "
                          f"config file: {config_path(env)})")
    profile = profiles[name] if name is not None else Profile("default")
    explicit = profile_name is not None

    def pick(option: str, variable: str, from_profile: str | None) -> str | None:
        if options.get(option):
            return str(options[option])
        if not explicit and env.get(variable):  # a named profile beats the environment
            return env[variable]
        return from_profile or (env.get(variable) or None)

    url = pick("url", "DELTACLOUD_URL", profile.url)
    if not url:
        raise ConfigError("no server URL: give --url, set DELTACLOUD_URL, or name a --profile with a url")
    user = pick("user", "DELTACLOUD_USER", profile.user)
    password: str | None = None
    if not explicit and env.get("DELTACLOUD_PASSWORD"):
        password = env["DELTACLOUD_PASSWORD"]
    elif profile.password_env:
        password = env.get(profile.password_env)
        if password is None:
            raise ConfigError(f"profile '{profile.name}' reads its password from ${profile.password_env}, "
                              f"which is not set")
    elif profile.password_keyring and user:
        password = _keyring_password(url, user)
        if password is None:
            raise ConfigError(f"no password for {user} at {keyring_service(url)} in the keyring: "
                              f"deltacloud profiles set-password {profile.name}")
    elif env.get("DELTACLOUD_PASSWORD"):
        password = env["DELTACLOUD_PASSWORD"]
    elif user:
        password = prompt(profile.name, user)
    fmt = str(options.get("wire_format") or profile.format or "json")
    return Connection(profile.name, url, user, password, pick("driver", "DELTACLOUD_DRIVER", profile.driver),
                      pick("provider", "DELTACLOUD_PROVIDER", profile.provider), fmt)
