"""The only package that imports Starlette, Jinja2 or xmltodict."""

from .app import DeltacloudApp, create_app
from .settings import API_VERSION, Settings

__all__ = ["API_VERSION", "DeltacloudApp", "Settings", "create_app"]
