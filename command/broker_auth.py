"""Device MQTT credentials for a Mosquitto password file (``dolbom device credentials``).

A device authenticates with its provisioned ``device_id`` as username and a random password
issued here; the broker's ACL (``deploy/mosquitto/acl``: ``pattern write dolbom/v1/%u/...``)
then lets it publish only under its own topics. The password is shown once and stored only
as Mosquitto's salted hash (``mosquitto_passwd``).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from dolbom.errors import DolbomError
from dolbom.wire import DEVICE_ID_RE


class CredentialsError(DolbomError):
    """Device credentials could not be issued."""


def _mosquitto_passwd() -> str:
    found = shutil.which("mosquitto_passwd") or (
        "/usr/bin/mosquitto_passwd" if Path("/usr/bin/mosquitto_passwd").exists() else None)
    if not found:
        raise CredentialsError("mosquitto_passwd not found; install Mosquitto (apt-get install mosquitto)")
    return found


def issue_credentials(passwd_file: Path, username: str, password: str | None = None) -> str:
    """Add or replace ``username`` in the password file; return the (new) password."""
    if not DEVICE_ID_RE.match(username):
        raise CredentialsError(f"{username!r} is not a valid device id ([A-Za-z0-9_-]{{1,64}})")
    password = password or secrets.token_urlsafe(18)
    passwd_file.parent.mkdir(parents=True, exist_ok=True)
    args = [_mosquitto_passwd(), "-b", str(passwd_file), username, password]
    if not passwd_file.exists():
        args.insert(1, "-c")
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise CredentialsError(f"mosquitto_passwd failed: {detail[-1] if detail else 'unknown error'}")
    passwd_file.chmod(0o600)
    return password
