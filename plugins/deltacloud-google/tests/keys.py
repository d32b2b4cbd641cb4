"""A service-account key made for the test session: a real RSA key in the JSON layout Google
issues (nothing of Google's; the emulator checks no token)."""

from __future__ import annotations

import base64
import json
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["EMAIL", "PROJECT", "key_base64", "key_json", "private_key"]

PROJECT = "deltacloud-test"
EMAIL = f"tester@{PROJECT}.iam.gserviceaccount.com"


@cache
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def key_json() -> str:
    pem = private_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()
    return json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "0123456789abcdef",
        "private_key": pem, "client_email": EMAIL, "client_id": "1",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
    })


def key_base64() -> str:
    return base64.b64encode(key_json().encode()).decode()
