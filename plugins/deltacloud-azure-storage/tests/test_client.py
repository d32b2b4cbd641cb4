"""Endpoint, settings and the error table, against small real HTTP servers where Azurite cannot
produce the answer (throttling, server errors)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azurite_server import ACCOUNT, KEY
from deltacloud_core import Credentials, ValidationError

from deltacloud_azure_storage import AzureDriver
from deltacloud_azure_storage.blobs import format_time
from deltacloud_azure_storage.client import ClientSettings, service_url


def test_default_endpoint_is_the_accounts():
    assert service_url(None, "acct") == "https://acct.blob.core.windows.net"
    assert service_url("", "acct") == "https://acct.blob.core.windows.net"


def test_provider_urls():
    assert service_url("http://127.0.0.1:10000/devstoreaccount1/", "x") == "http://127.0.0.1:10000/devstoreaccount1"
    assert service_url("acct.blob.core.chinacloudapi.cn", "x") == "https://acct.blob.core.chinacloudapi.cn"
    for bad in ("ftp://host/x", "https://", "https://h/a?sig=secret", "https://h/a#f"):
        with pytest.raises(ValidationError):
            service_url(bad, "x")


def test_driver_endpoint():
    driver = AzureDriver(credentials=Credentials("acct", KEY), provider=None)
    assert driver.endpoint() == "https://acct.blob.core.windows.net"


def test_settings_from_environment():
    assert ClientSettings.from_env({}) == ClientSettings()
    settings = ClientSettings.from_env({"DELTACLOUD_AZURE_READ_TIMEOUT": "5", "DELTACLOUD_AZURE_RETRIES": "0",
                                        "DELTACLOUD_AZURE_BLOCK_SIZE": str(8 * 1024 * 1024),
                                        "DELTACLOUD_AZURE_UPLOAD_CONCURRENCY": "2"})
    assert (settings.read_timeout, settings.retries, settings.block_size, settings.upload_concurrency) == (
        5.0, 0, 8 * 1024 * 1024, 2)
    for variable, value in (("DELTACLOUD_AZURE_BLOCK_SIZE", "1"), ("DELTACLOUD_AZURE_RETRIES", "-1"),
                            ("DELTACLOUD_AZURE_READ_TIMEOUT", "soon"), ("DELTACLOUD_AZURE_UPLOAD_CONCURRENCY", "0")):
        with pytest.raises(ValueError, match=r"DELTACLOUD_AZURE|must|number"):
            ClientSettings.from_env({variable: value})


def test_times_print_like_the_original():
    moment = datetime(2026, 11, 22, 9, 54, 32, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(moment) == "2026-11-22 08:54:32 +0000"
    assert format_time(datetime(2010, 9, 23, 16, 44, 54)) == "2010-09-23 16:44:54 +0000"
    assert format_time(None) is None


class _Answer(BaseHTTPRequestHandler):
    """Answers every request with the status and storage error code the server was given."""

    def _answer(self) -> None:
        status, code, extra = self.server.answer  # type: ignore[attr-defined]
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                f"<Message>Fake {code}.\nRequestId:1\nTime:now</Message></Error>").encode()
        self.send_response(status)
        self.send_header("x-ms-error-code", code)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_azure():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "code", "expected", "error_class"), [
    (503, "ServerBusy", 503, "RateLimited"),
    (500, "InternalError", 502, "ProviderError"),
    (500, "OperationTimedOut", 504, "ProviderTimeout"),
    (504, "GatewayTimeout", 504, "ProviderTimeout"),
    (403, "AuthenticationFailed", 401, "AuthenticationFailure"),
    (403, "AuthorizationPermissionMismatch", 403, "ForbiddenError"),
    (412, "ConditionNotMet", 409, "Conflict"),
    (413, "RequestBodyTooLarge", 413, "PayloadTooLarge"),
    (400, "InvalidQueryParameterValue", 400, "ValidationFailure"),
])
def test_error_table(fake_azure, status, code, expected, error_class):
    fake_azure.answer = (status, code, {"Retry-After": "7"} if status == 503 else {})
    driver = AzureDriver(credentials=Credentials(ACCOUNT, KEY),
                         provider=f"http://127.0.0.1:{fake_azure.server_address[1]}/{ACCOUNT}")
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class is checked below
        driver.destroy_blob("bucket", "blob")
    error = info.value
    assert (error.status, error.backend_code) == (expected, code)
    assert error.error_class.endswith(error_class)
    if status == 503:
        assert error.headers["Retry-After"] == "7"
    if expected != 401:
        assert error.message.startswith(f"Fake {code}.") or error.message.endswith(f"Fake {code}.")
