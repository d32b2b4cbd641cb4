"""``GoogleDriver``: the Deltacloud ``google`` driver, Google Cloud Storage (buckets and blobs).

Storage only, as the original's ``google`` driver: the entry point offers ``buckets`` (with the
``bucket_location`` feature) and ``drivers``. The request's credentials choose the API (see
:mod:`.credentials`): a service-account key goes through the JSON API (:mod:`.json_api`), an
HMAC key through the XML API (:mod:`.xml_api`). The provider names the project and, optionally,
the endpoint (:mod:`.provider`).

OAuth tokens of a service-account key are fetched by google-auth from the key's ``token_uri``
and sent only to an ``https`` endpoint; an ``http`` endpoint (an emulator such as
fake-gcs-server, ``STORAGE_EMULATOR_HOST``) gets none, as google-cloud-storage does with an
emulator. The key itself is parsed in memory and never written anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlsplit

from deltacloud_core import AuthenticationFailure, ClientCache, Driver, ValidationError
from deltacloud_core.models import Blob, Bucket, ByteRange

from .credentials import HmacKey, ServiceAccountKey, parse_credentials
from .errors import google_errors
from .json_api import JsonStorage
from .provider import resolve
from .settings import Settings
from .xml_api import XmlStorage, xml_provider

__all__ = ["SCOPE", "GoogleDriver"]

#: What the service-account token may do: read and write objects and buckets.
SCOPE = "https://www.googleapis.com/auth/devstorage.full_control"


def _json_storage(key: ServiceAccountKey, endpoint: str, project: str | None, settings: Settings) -> JsonStorage:
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import storage
    from google.oauth2 import service_account

    with google_errors():
        if endpoint.startswith("https://"):
            credentials: Any = service_account.Credentials.from_service_account_info(key.info, scopes=[SCOPE])
        else:
            credentials = AnonymousCredentials()  # an emulator checks no token; none travels in clear
        client = storage.Client(project=project or key.project_id or "deltacloud", credentials=credentials,
                                client_options={"api_endpoint": endpoint})
        session = AuthorizedSession(credentials)
    return JsonStorage(client=client, session=session, endpoint=endpoint, project=project or key.project_id,
                       settings=settings)


class GoogleDriver(Driver):
    """Google Cloud Storage: buckets and blobs, streamed both ways."""

    DISPLAY_NAME: ClassVar[str | None] = "Google"
    USERNAME_LABEL: ClassVar[str | None] = "HMAC access id, or service account e-mail"
    PASSWORD_LABEL: ClassVar[str | None] = "HMAC secret, or service account JSON key (or its base64)"
    FEATURES: ClassVar[Mapping[str, Sequence[str]]] = {"buckets": ("bucket_location",)}
    CLIENT_CACHE: ClassVar[ClientCache | None] = ClientCache(maxsize=64, max_age=900.0)
    #: Timeouts, retries, chunk sizes; None: read from the environment on first use.
    SETTINGS: ClassVar[Settings | None] = None

    @classmethod
    def provider_hosts(cls, provider: str) -> list[str]:
        """The endpoint's host (a bare ``endpoint=host:port`` too), for the server's provider policy."""
        try:
            endpoint = resolve(provider).endpoint
        except ValidationError:
            return super().provider_hosts(provider)
        host = urlsplit(endpoint).hostname
        return [host] if host else []

    @classmethod
    def settings(cls) -> Settings:
        if cls.SETTINGS is None:
            cls.SETTINGS = Settings.from_env()
        return cls.SETTINGS

    def storage(self) -> JsonStorage | XmlStorage:
        """The API this request's credentials use (clients cached per credentials and endpoint)."""
        memo = self.__dict__.get("_storage")
        if memo is not None:
            return memo
        credentials = self.credentials
        key = parse_credentials(credentials)
        target = resolve(self.provider)
        found: JsonStorage | XmlStorage
        if isinstance(key, HmacKey):
            found = XmlStorage(credentials=credentials, provider=xml_provider(target.endpoint))
        else:
            settings = self.settings()
            found = self.cached_client(f"json {target.endpoint} {target.project} {settings!r}",
                                       lambda: _json_storage(key, target.endpoint, target.project, settings))
        self.__dict__["_storage"] = found
        return found

    def validate_credentials(self) -> bool:
        try:
            storage = self.storage()
            if isinstance(storage, XmlStorage):
                storage.s3.list_buckets()
            else:
                with google_errors():
                    next(iter(storage.client.list_buckets(project=storage.project, max_results=1)), None)
        except AuthenticationFailure:
            return False
        return True

    # -- buckets ---------------------------------------------------------------------------
    def list_buckets(self, **filters: str) -> list[Bucket]:
        return self.storage().list_buckets(**filters)

    def get_bucket(self, id: str) -> Bucket | None:
        return self.storage().get_bucket(id)

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        return self.storage().create_bucket(name=name, location=location)

    def destroy_bucket(self, id: str) -> None:
        self.storage().destroy_bucket(id)

    # -- blobs -----------------------------------------------------------------------------
    def get_blob(self, bucket_id: str, blob_id: str) -> Blob | None:
        return self.storage().get_blob(bucket_id, blob_id)

    def blob_content(self, bucket_id: str, blob_id: str, *, byte_range: ByteRange | None = None) -> Iterator[bytes]:
        return self.storage().blob_content(bucket_id, blob_id, byte_range=byte_range)

    def create_blob(self, bucket_id: str, blob_id: str, *, data: BinaryIO, content_type: str,
                    user_metadata: Mapping[str, str], content_length: int | None = None) -> Blob:
        return self.storage().create_blob(bucket_id, blob_id, data=data, content_type=content_type,
                                          user_metadata=user_metadata, content_length=content_length)

    def destroy_blob(self, bucket_id: str, blob_id: str) -> None:
        self.storage().destroy_blob(bucket_id, blob_id)

    def blob_metadata(self, bucket_id: str, blob_id: str) -> dict[str, str] | None:
        return self.storage().blob_metadata(bucket_id, blob_id)

    def update_blob_metadata(self, bucket_id: str, blob_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        return self.storage().update_blob_metadata(bucket_id, blob_id, metadata)  # type: ignore[return-value]
