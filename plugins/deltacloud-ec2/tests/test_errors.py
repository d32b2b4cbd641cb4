"""AWS errors as Deltacloud answers: the translation table, then each class of failure over real HTTP.

Sources of real failures: moto for unknown ids; a second moto with authentication switched on
(``INITIAL_NO_AUTH_ACTION_COUNT=0``) for bad credentials; the canned-answer server of
``aws_stub`` for throttling, wrong states and a backend that never answers; a closed port for an
unreachable endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_stub import Canned, running_stub
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from conftest import CREDENTIALS, IMAGE_X86_64
from deltacloud_ec2 import EC2Driver
from deltacloud_ec2.errors import translate
from moto_process import MotoServer, free_port

from deltacloud_core import (
    AuthenticationFailure,
    Conflict,
    ForbiddenError,
    MethodNotAllowed,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    ValidationError,
)


def client_error(code: str, message: str = "boom", status: int = 400, headers: dict | None = None) -> ClientError:
    response = {"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}}}
    return ClientError(response, "AnyOperation")


@pytest.mark.parametrize(("code", "status", "expected"), [
    ("AuthFailure", 401, 401), ("InvalidAccessKeyId", 403, 401), ("SignatureDoesNotMatch", 403, 401),
    ("InvalidClientTokenId", 403, 401),
    ("RequestLimitExceeded", 503, 503), ("Throttling", 400, 503), ("SlowDown", 503, 503),
    ("InsufficientInstanceCapacity", 500, 503),
    ("InvalidInstanceID.NotFound", 400, 404), ("InvalidInstanceID.Malformed", 400, 404),
    ("InvalidAMIID.Unavailable", 400, 404), ("NoSuchBucket", 404, 404), ("NoSuchKey", 404, 404),
    ("404", 404, 404), ("LoadBalancerNotFound", 400, 404),
    ("IncorrectInstanceState", 400, 405),
    ("IncorrectState", 400, 409), ("VolumeInUse", 400, 409), ("DependencyViolation", 400, 409),
    ("InvalidKeyPair.Duplicate", 400, 409), ("InvalidGroup.InUse", 400, 409), ("BucketAlreadyOwnedByYou", 409, 409),
    ("UnauthorizedOperation", 403, 403), ("BucketNotEmpty", 409, 403), ("InstanceLimitExceeded", 400, 403),
    ("InvalidParameterValue", 400, 400), ("MissingParameter", 400, 400), ("InvalidBucketName", 400, 400),
    ("NotImplemented", 501, 501), ("InternalError", 500, 502), ("Unavailable", 503, 503),
    ("SomethingNew", 400, 400), ("SomethingNew", 500, 502), ("SomethingNew", 403, 403),
])
def test_translation_table(code: str, status: int, expected: int):
    error = translate(client_error(code, "the backend's words", status))
    assert error.status == expected
    assert error.backend_code == code
    assert error.message == "the backend's words"


def test_special_cases():
    assert translate(client_error("InvalidParameterValue", "Invalid availability zone: [x]")).status == 404
    throttled = translate(client_error("RequestLimitExceeded", "slow down", 503, {"retry-after": "7"}))
    assert isinstance(throttled, RateLimited) and throttled.headers == {"Retry-After": "7"}
    assert translate(client_error("Throttling", "slow down", 400)).headers == {"Retry-After": "1"}
    # CloudWatch's CBOR protocol leaves an XML error body unparsed: the code is found in it.
    raw = client_error("403", "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>"
                              "<Message>The security token is invalid.</Message></Error></Errors></ErrorResponse>", 403)
    error = translate(raw)
    assert (error.status, error.backend_code, error.message) == (401, "InvalidClientTokenId",
                                                                  "The security token is invalid.")
    assert isinstance(translate(EndpointConnectionError(endpoint_url="http://x")), ProviderError)
    assert isinstance(translate(ReadTimeoutError(endpoint_url="http://x")), ProviderTimeout)
    assert translate(ValueError("not ours")) is None


# -- unknown ids (moto) ----------------------------------------------------------------------------

def test_unknown_ids_are_404_documents(client):
    for path in ("instances/i-00000000000000000", "images/ami-00000000", "keys/nope", "storage_volumes/vol-0",
                 "storage_snapshots/snap-0", "buckets/dc-nope", "buckets/dc-nope/blob", "addresses/203.0.113.1",
                 "firewalls/sg-00000000", "load_balancers/nope", "realms/nope", "networks/vpc-0",
                 "subnets/subnet-0", "network_interfaces/eni-0", "hardware_profiles/x9.nope", "metrics/i-0"):
        reply = client.get(f"/api/{path}?format=json")
        assert reply.status_code == 404, (path, reply.text)
    reply = client.delete("/api/keys/nope?format=json")
    assert reply.status_code == 404
    assert reply.json()["backend_code"] == "InvalidKeyPair.NotFound"
    reply = client.post("/api/instances?format=json", data={"image_id": "ami-00000000"})
    assert (reply.status_code, reply.json()["backend_code"]) == (404, "InvalidAMIID.NotFound")
    reply = client.post("/api/instances/i-00000000000000000/stop?format=json")
    assert reply.status_code == 403  # the original: an action on an unknown instance is Forbidden


# -- bad credentials (moto with authentication on) -------------------------------------------------

@pytest.fixture(scope="module")
def strict_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    log = Path(tmp_path_factory.mktemp("strict-moto")) / "moto_server.log"
    server = MotoServer(log, extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}).start()
    try:
        yield server
    finally:
        server.stop()


def test_bad_credentials_are_401_for_every_service(strict_moto: MotoServer):
    endpoint = strict_moto.url.removeprefix("http://")
    driver = EC2Driver(credentials=CREDENTIALS, provider=f"ec2={endpoint};s3={endpoint}")
    for call, code in ((driver.list_instances, "AuthFailure"), (driver.list_buckets, "InvalidAccessKeyId"),
                       (driver.list_load_balancers, "InvalidClientTokenId"),
                       (driver.list_metrics, "InvalidClientTokenId")):
        with pytest.raises(AuthenticationFailure) as err:
            call()
        assert err.value.backend_code == code
    assert driver.validate_credentials() is False


def test_bad_credentials_over_http(strict_moto: MotoServer, client):
    endpoint = strict_moto.url.removeprefix("http://")
    headers = {"X-Deltacloud-Provider": f"ec2={endpoint};s3={endpoint}"}
    listing = client.get("/api/instances?format=json", headers=headers)
    assert listing.status_code == 401
    assert listing.json()["message"] == "Unauthorized"  # an index reports the generic text
    assert listing.json()["backend_code"] == "AuthFailure"
    shown = client.get("/api/instances/i-00000000000000000?format=xml", headers=headers)
    assert shown.status_code == 401
    assert "AWS was not able to validate the provided access credentials" in shown.text
    assert "AuthFailure" in shown.text
    forced = client.get("/api?force_auth=1", headers=headers)
    assert (forced.status_code, forced.text) == (401, "Authentication failed")
    assert client.get("/api", headers=headers).status_code == 200  # the entry point never asks


# -- throttling, wrong states, timeouts, unreachable (canned answers) ------------------------------

def test_throttling_is_503_with_retry_after(client, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    canned = Canned(503, "RequestLimitExceeded", "Request limit exceeded.", {"Retry-After": "7"})
    with running_stub({"DescribeInstances": canned}) as stub:
        reply = client.get("/api/instances?format=json", headers={"X-Deltacloud-Provider": stub.provider})
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "7"
        assert reply.json()["backend_code"] == "RequestLimitExceeded"
        assert stub.seen == ["DescribeInstances"]  # one attempt, as AWS_MAX_ATTEMPTS says


def test_throttling_is_retried_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    with running_stub({"DescribeAvailabilityZones": Canned(503, "RequestLimitExceeded", "slow")}) as stub:
        driver = EC2Driver(credentials=CREDENTIALS, provider=stub.provider)
        with pytest.raises(RateLimited) as err:
            driver.list_realms()
        assert err.value.headers == {"Retry-After": "1"}
        assert stub.seen == ["DescribeAvailabilityZones"] * 2


def test_wrong_states_are_405_and_409(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    answers = {"StartInstances": Canned(400, "IncorrectInstanceState", "The instance is not in a state from "
                                                                       "which it can be started."),
               "AttachVolume": Canned(400, "IncorrectState", "vol-1 is not 'available'."),
               "RunInstances": Canned(400, "InstanceLimitExceeded", "You have requested more instances than allowed"),
               "CreateKeyPair": Canned(400, "InvalidKeyPair.Format", "bad"),
               "DeleteSecurityGroup": Canned(400, "DependencyViolation", "resource sg-1 has a dependent object"),
               "DescribeSecurityGroups": Canned(400, "UnauthorizedOperation", "not allowed")}
    with running_stub(answers) as stub:
        driver = EC2Driver(credentials=CREDENTIALS, provider=stub.provider)
        with pytest.raises(MethodNotAllowed) as err:
            driver.start_instance("i-1")
        assert err.value.backend_code == "IncorrectInstanceState"
        with pytest.raises(Conflict):
            driver.attach_storage_volume("vol-1", instance_id="i-1", device="/dev/sdh")
        with pytest.raises(ForbiddenError):
            driver.create_instance(image_id=IMAGE_X86_64)
        with pytest.raises(ValidationError):
            driver.create_key(name="k")
        with pytest.raises(ForbiddenError):
            driver.list_firewalls()
        with pytest.raises(Conflict):
            driver.ec2.delete_security_group(GroupId="sg-1")


def test_backend_that_never_answers_is_504(client, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("DELTACLOUD_EC2_READ_TIMEOUT", "0.5")
    with running_stub({"DescribeInstances": Canned(hold=True)}) as stub:
        reply = client.get("/api/instances/i-1?format=json", headers={"X-Deltacloud-Provider": stub.provider})
        assert reply.status_code == 504
        assert reply.json()["backend_code"] == "ReadTimeoutError"


def test_unreachable_endpoint_is_502(client, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    closed = f"127.0.0.1:{free_port()}"
    reply = client.get("/api/realms?format=json", headers={"X-Deltacloud-Provider": f"ec2={closed};s3={closed}"})
    assert reply.status_code == 502
    assert reply.json()["backend_code"] == "EndpointConnectionError"


def test_a_provider_that_is_not_understood_is_400(client):
    for provider in ("not a region", "ec2=;s3=", "foo=1.2.3.4"):
        reply = client.get("/api/realms?format=json", headers={"X-Deltacloud-Provider": provider})
        assert reply.status_code == 400, provider
    assert client.get("/api?format=json", headers={"X-Deltacloud-Provider": "not a region"}).status_code == 200

