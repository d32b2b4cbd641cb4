"""Replays the original server's recordings (``tests/golden``) and compares our answers with them.

Scope: the entry point and the compute collections (drivers, realms, hardware_profiles, images,
instances and their actions, instance_states, keys), negotiation, matrix parameters, auth and the
error answers around them. Each case replays the recorded request (from ``INDEX.tsv``) on a fresh
mock store, after the requests the recording depended on, and compares the status, the headers
that matter (``support.compare.header_diff``) and the body structure (XML/JSON structurally,
plain texts exactly, HTML only by status and headers — its content is tested elsewhere).

Where we deliberately answer differently from the original (the spec's "Recommended:" notes) the
recording is not compared; ``DEVIATIONS`` says why and a test below pins our own behaviour.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from support.asgi import Reply
from support.compare import header_diff, json_diff, normalize_base, xml_diff
from support.golden import CurlRequest, GoldenFile, golden, index, parse_curl_args, replay

MOCK_AUTH = ("mockuser", "mockpassword")
#: The collections this suite covers; every entry point compared must list them.
COMPUTE_COLLECTIONS = frozenset({"drivers", "hardware_profiles", "images", "instance_states", "instances", "keys",
                                 "realms"})

# Golden file -> why it is not compared: we deliberately deviate from the original there (the spec's
# "Recommended:" notes). Each one has an explicit test of our behaviour at the end of this module.
DEVIATIONS: dict[str, str] = {
    "error_500_unknown_driver_header.json":
        "a driver this server does not offer is a 400 whose message has the install hint and the installed "
        "drivers (issue 16; API.md §4.1 allows a 400); the original answered 500 RuntimeError. An installed "
        "driver that fails to load is still a 500. Same for error_500_unknown_driver_matrix.json.",
    "error_500_unknown_driver_matrix.json": "see error_500_unknown_driver_header.json",
    "error_500_instance_states_format_gv.gv":
        "?format=gv answers 200 application/ghostscript with the Graphviz source (API.md §9.5, STATES.md §3 "
        "Recommended); the original's gv template lookup is broken and answers 500 with an empty body.",
    "create_instance_hwp_memory_out_of_range.xml":
        "hwp_memory outside the profile's range (m1-large: 7680..15360) answers 400 (hardware profile "
        "validation, DESIGN.md §4); the original stored 99999999 unvalidated and answered 201.",
    "error_500_instance_run_mock.json":
        "POST /api/instances/:id/run on mock answers 200 with the run result (public_address, command, "
        "output) (API.md §9.4 Recommended); the original's mock SSH object fails to render (500).",
    "error_500_create_image_json.json":
        "JSON image create answers 201 + Location + {\"image\":...} with \"hardware_profiles\":[] "
        "(FORMATS.md §4 Recommended); the original created the image and then failed with 500.",
    "error_500_destroy_key_unknown.json":
        "DELETE of an unknown key answers 404 (API.md §9.6 Recommended); the original answered 500 "
        "NoMethodError.",
    "error_406_instances_accept_json_charset.txt":
        "Accept: application/json;charset=utf-8 answers JSON: Accept parameters other than q are ignored "
        "(API.md §3 Recommended); the original matched nothing and answered 406.",
    "error_406_format_json_accept_unknown.txt":
        "a valid ?format= always wins, also over an unacceptable Accept (API.md §3 Recommended); the "
        "original's first negotiation stage answered 406 before reading the query string.",
    "error_500_images_after_create_without_description.json":
        "the image list sorts a missing description as \"\" (API.md §9.3, MOCK.md §5 Recommended); the "
        "original failed with 500 'comparison of Array with Array failed'.",
}

# Deviations without a recording (the spec quotes the original's answer in prose).
UNRECORDED_DEVIATIONS: dict[str, str] = {
    "error_500_unknown_driver_header.json":
        "a driver this server does not offer is a 400 whose message has the install hint and the installed "
        "drivers (issue 16; API.md §4.1 allows a 400); the original answered 500 RuntimeError. An installed "
        "driver that fails to load is still a 500. Same for error_500_unknown_driver_matrix.json.",
    "error_500_unknown_driver_matrix.json": "see error_500_unknown_driver_header.json",
    "POST /api/images;instance_id=X":
        "the matrix parameter on the last segment of a POST target counts as a plain parameter when the "
        "body does not supply it (API.md §4.2 Recommended); the original dropped it and answered 400.",
    "Accept: application/json;q=0":
        "q=0 means not acceptable (RFC 9110 §12.4.2; issue 16: text/html;q=0, */*;q=0 is a 406); the "
        "original still counted it (API.md §3 step 2) and answered JSON.",
    "POST /api/instances with a body, no credentials":
        "a body sent without credentials to a driver-backed operation is a 401 before the body is read "
        "(issue 16: no 100 MB upload spooled before the 401); the original read it and answered 400 for a "
        "missing required parameter first (API.md §2 step 8). Without a body the 400 still comes first.",
}

# Recordings compared only in part, and why.
ADAPTED: dict[str, str] = {
    "options_api.txt":
        "Allow compared on the collections both servers list; body and ETag not compared: we send an "
        "empty body (API.md §7 Recommended), the original its header names, which earned it an ETag.",
    "api.xml": "links compared on the collections both servers list (the rest come in a later issue).",
    "drivers.xml": "compared on the drivers installed here (the original's config listed 19).",
    "instances_inst4_hwp_memory_override.json":
        "inst4 created with an in-range hwp_memory (15360) instead of 99999999, which we refuse (see "
        "DEVIATIONS); the recording's value is substituted before comparing. Same for the other inst4 rows.",
    "instance_states_accept_png.png": "any PNG is fine; without Graphviz an empty image/png body (no ETag).",
    "error_401_instances_badauth.xml":
        "WWW-Authenticate not compared: we send the challenge on every 401 (API.md §5 Recommended), the "
        "original not on wrong credentials. Same for error_401_instances_badauth.json.",
}

# Recordings of collections our core does not register yet (a later issue): skipped until the collection
# is registered, then compared like the rest. Golden file -> the collection it needs.
NOT_YET: dict[str, str] = {
    "error_412_firewalls_noauth.xml": "firewalls",
    "error_412_firewalls.json": "firewalls",
    "options_firewalls.txt": "firewalls",
    "error_412_load_balancers.xml": "load_balancers",
    "error_412_load_balancers_noauth.json": "load_balancers",
    "error_412_load_balancers_lb1.xml": "load_balancers",
}

NEEDS_EC2 = frozenset({"api_driver_ec2_matrix.xml", "hardware_profiles_matrix_driver_ec2.xml",
                       "hardware_profiles_matrix_driver_ec2.json"})

# -- stateful preconditions ------------------------------------------------------------------------

INST4_MEMORY = "15360"  # top of m1-large's memory range
CREATE_INST4 = CurlRequest("POST", "/api/instances?format=xml", auth=MOCK_AUTH,
                           data=("image_id=img1", "hwp_id=m1-large", f"hwp_memory={INST4_MEMORY}",
                                 "name=goldencheck-hwp"))
STOP_INST4 = CurlRequest("POST", "/api/instances/inst4/stop?format=xml", auth=MOCK_AUTH)
DESTROY_INST4 = CurlRequest("DELETE", "/api/instances/inst4?format=xml", auth=MOCK_AUTH)
CREATE_IMG2 = CurlRequest("POST", "/api/images?format=xml", auth=MOCK_AUTH,
                          data=("instance_id=inst1", "name=goldencheck-img2"))
INST4_SUBST = (("99999999", INST4_MEMORY),)

Step = str | CurlRequest


@dataclass(frozen=True)
class Case:
    setup: tuple[Step, ...] = ()
    ignore: tuple[str, ...] = ()  # value paths not compared (support.compare)
    body: str = "auto"  # auto | none | png
    subst: tuple[tuple[str, str], ...] = ()  # applied to the recording's body first
    common_links: bool = False  # entry point: compare only collections both list
    common_drivers: bool = False  # /api/drivers: compare only drivers both list
    skip_headers: tuple[str, ...] = ()
    check: Callable[[Reply], None] | None = None
    #: Removes from our JSON answer what we add on purpose (an extension the original lacks), after
    #: checking it; the rest must still compare equal to the recording.
    extension: Callable[[Any], None] | None = None


def _hardware_profile_details(document: Any) -> None:
    """``property_details`` (our JSON extension, the XML's kinds and bounds): one entry per property
    of ``properties``, in the same order with the same defaults; removed before comparing."""
    profiles = document.get("hardware_profiles") or [document["hardware_profile"]]
    for profile in profiles:
        details = profile.pop("property_details", None)
        if "properties" not in profile:
            assert details is None, f"{profile['id']}: details without properties"
            continue
        assert details is not None, f"{profile['id']}: no property_details"
        assert [(d["name"], d["value"]) for d in details] == list(profile["properties"].items()), profile["id"]
        assert all(d["kind"] in ("fixed", "range", "enum") for d in details), details


HWP_DETAILS = _hardware_profile_details

KEY_MATERIAL = ("/key/pem", "/key/fingerprint", "$.key.pem_rsa_key", "$.key.fingerprint")

CASES: dict[str, Case] = {
    # entry point
    "api.xml": Case(common_links=True),
    "api.json": Case(common_links=True),
    "api_no_accept.xml": Case(common_links=True),
    "api_trailing_slash.xml": Case(common_links=True),
    "api_force_auth_ok.xml": Case(common_links=True),
    "api_provider_matrix.xml": Case(common_links=True),
    "api_driver_ec2_matrix.xml": Case(common_links=True),
    "api_accept_any.html": Case(),
    "api_force_auth_noauth.xml": Case(),
    "api_force_auth_badauth.xml": Case(),
    "head_api.xml": Case(),
    "options_api.txt": Case(body="none", skip_headers=("ETag", "Cache-Control", "Allow")),
    "post_api_driver_301.txt": Case(),
    "post_api_provider_301.txt": Case(),
    "post_api_provider_referer_301.txt": Case(),
    "post_api_empty_301.txt": Case(),
    "error_400_no_host_header.xml": Case(),
    # drivers
    "drivers.xml": Case(common_drivers=True),
    "drivers.json": Case(common_drivers=True),
    "drivers_mock.xml": Case(),
    "drivers_mock.json": Case(),
    "error_404_drivers_foo.xml": Case(),
    # realms
    "realms.xml": Case(),
    "realms.json": Case(),
    "realms_us.xml": Case(),
    "realms_us.json": Case(),
    "realms_501.json": Case(),
    "realms_id_502.xml": Case(),
    "options_realms.txt": Case(),
    # hardware profiles
    "hardware_profiles.xml": Case(),
    "hardware_profiles.json": Case(extension=HWP_DETAILS),
    "hardware_profiles_m1-small.xml": Case(),
    "hardware_profiles_m1-small.json": Case(extension=HWP_DETAILS),
    "hardware_profiles_m1-large.xml": Case(),
    "hardware_profiles_m1-large.json": Case(extension=HWP_DETAILS),
    "hardware_profiles_matrix_driver_ec2.xml": Case(),
    "hardware_profiles_matrix_driver_ec2.json": Case(extension=HWP_DETAILS),
    # instance states
    "instance_states.xml": Case(),
    "instance_states.json": Case(),
    "instance_states_accept_png.png": Case(body="png"),
    # images
    "images.xml": Case(),
    "images.json": Case(),
    "images_img1.xml": Case(),
    "images_img1.json": Case(),
    "error_404_images_nope.xml": Case(),
    "error_404_images_nope.json": Case(),
    "error_404_images_new_without_instance.html": Case(),
    "create_image_201.xml": Case(),
    "error_500_create_image_inst3.json": Case(),
    "error_404_create_image_unknown_instance.json": Case(),
    "destroy_image_204.xml": Case(setup=("create_image_201.xml",)),
    "destroy_image_204.json": Case(setup=(CREATE_IMG2,)),
    "destroy_image_unknown_204.json": Case(),
    # instances: reads
    "instances.xml": Case(),
    "instances.json": Case(),
    "instances_inst0.xml": Case(),
    "instances_inst0.json": Case(),
    "instances_inst1.xml": Case(),
    "instances_inst1.json": Case(),
    "instances_no_accept.xml": Case(),
    "instances_accept_any.html": Case(),
    "instances_accept_text_xml.xml": Case(),
    "instances_format_json_accept_html.json": Case(),
    "instances_accept_tie_json_then_xml.xml": Case(),
    "instances_accept_tie_xml_then_json.json": Case(),
    "instances_accept_restclient.xml": Case(),
    "instances_matrix_driver_mock.xml": Case(),
    "head_instances.xml": Case(),
    "head_instances_inst1.xml": Case(),
    "head_instances_nope.xml": Case(),
    "head_instances_noauth.xml": Case(),
    "head_instances_inst1_reboot.html": Case(),
    "head_instances_accept_any.html": Case(),
    "options_instances.txt": Case(),
    "options_instances_create.txt": Case(),
    "options_instances_index.txt": Case(),
    "options_instances_inst1_run.txt": Case(),
    "options_instances_inst1_404.txt": Case(),
    "error_404_instances_nope.xml": Case(),
    "error_404_instances_nope.json": Case(),
    "error_404_instances_nope_matrix_provider.xml": Case(),
    "error_404_instances_trailing_slash.xml": Case(),
    "error_404_no_such_collection.xml": Case(),
    "error_404_no_such_collection.json": Case(),
    "error_404_docs_nosuch.html": Case(),
    "error_401_instances_noauth.xml": Case(),
    "error_401_instances_noauth.json": Case(),
    "error_401_instances_badauth.xml": Case(skip_headers=("WWW-Authenticate",)),
    "error_401_instances_badauth.json": Case(skip_headers=("WWW-Authenticate",)),
    "error_401_instance_stop_nope_noauth.xml": Case(),
    "error_406_format_bogus.txt": Case(),
    "error_406_instances_accept_png.txt": Case(),
    "error_406_instances_new_accept_xml.txt": Case(),
    # instances: create and the life cycle of inst4
    "error_400_create_instance_without_image.xml": Case(),
    "error_400_create_instance_without_image.json": Case(),
    "error_400_create_instance_bad_hwp.xml": Case(),
    "error_400_create_instance_bad_hwp.json": Case(),
    "error_400_run_without_cmd.xml": Case(),
    "create_instance_201.xml": Case(),
    "create_instance_201.json": Case(setup=("create_instance_201.xml",)),
    "instances_accept_json.json": Case(setup=("create_instance_201.xml", "create_instance_201.json")),
    "instances_accept_xml.xml": Case(setup=("create_instance_201.xml", "create_instance_201.json")),
    "instances_inst4_hwp_memory_override.json": Case(setup=(CREATE_INST4,), subst=INST4_SUBST),
    "error_405_instance_destroy_running.xml": Case(setup=(CREATE_INST4,)),
    "error_405_instance_destroy_running.json": Case(setup=(CREATE_INST4,)),
    "error_405_instance_start_running.xml": Case(setup=(CREATE_INST4,)),
    "instance_reboot_202.xml": Case(setup=(CREATE_INST4,), subst=INST4_SUBST),
    "instance_stop_202.json": Case(setup=(CREATE_INST4,), subst=INST4_SUBST),
    "error_405_instance_stop_stopped.json": Case(setup=(CREATE_INST4, STOP_INST4)),
    "instances_stopped_instance.xml": Case(setup=(CREATE_INST4, STOP_INST4), subst=INST4_SUBST),
    "instance_start_202.xml": Case(setup=(CREATE_INST4, STOP_INST4), subst=INST4_SUBST),
    "instance_stop_202.xml": Case(setup=(CREATE_INST4,), subst=INST4_SUBST),
    "destroy_instance_204.xml": Case(setup=(CREATE_INST4, STOP_INST4)),
    "error_404_instance_after_destroy.json": Case(setup=(CREATE_INST4, STOP_INST4, DESTROY_INST4)),
    "error_403_instance_stop_nope.xml": Case(),
    "error_403_instance_stop_nope.json": Case(),
    "error_403_instance_destroy_nope.json": Case(),
    # keys
    "keys.xml": Case(),
    "keys.json": Case(),
    "keys_test-key.xml": Case(),
    "keys_test-key.json": Case(),
    "create_key_201.xml": Case(ignore=KEY_MATERIAL),
    "create_key_201.json": Case(ignore=KEY_MATERIAL),
    "error_403_create_key_duplicate.xml": Case(),
    "error_403_create_key_duplicate.json": Case(),
    "error_400_create_key_without_name.json": Case(),
    "destroy_key_204.xml": Case(setup=("create_key_201.xml",)),
    "destroy_key_204.json": Case(setup=("create_key_201.json",)),
}

#: Not compared in any error document: the backtrace is diagnostic (FORMATS.md §E.1).
ALWAYS_IGNORED = ("/error/backtrace",)


def _params() -> list:
    return [pytest.param(name, id=name) for name in [*CASES, *NOT_YET]]


def test_cases_cover_recordings():
    """Every case names a recording, and nothing is both compared and declared a deviation."""
    recorded = set(index())
    assert set(CASES) <= recorded, sorted(set(CASES) - recorded)
    assert set(DEVIATIONS) <= recorded, sorted(set(DEVIATIONS) - recorded)
    assert set(NOT_YET) <= recorded
    assert not set(CASES) & set(DEVIATIONS)
    assert not set(CASES) & set(NOT_YET)


def _run_setup(client, app, steps: tuple[Step, ...]) -> None:
    for step in steps:
        req = golden(step).request if isinstance(step, str) else step
        reply = replay(client, req, app)
        assert 200 <= reply.status < 300, f"setup step {req.method} {req.target} answered {reply.status}"


def _restrict_entry_point(expected: bytes, actual: bytes, fmt: str) -> tuple[bytes, bytes]:
    """Drop the collections only one side lists (our core registers the rest in a later issue)."""
    if fmt == "json":
        exp, act = json.loads(expected), json.loads(actual)
        common = {link["rel"] for link in exp["api"]["links"]} & {link["rel"] for link in act["api"]["links"]}
        assert COMPUTE_COLLECTIONS <= common, f"entry point lacks {sorted(COMPUTE_COLLECTIONS - common)}"
        for doc in (exp, act):
            doc["api"]["links"] = [link for link in doc["api"]["links"] if link["rel"] in common]
        return json.dumps(exp).encode(), json.dumps(act).encode()
    exp_root, act_root = ET.fromstring(expected), ET.fromstring(actual)
    common = ({e.get("rel") for e in exp_root.findall("link")} & {e.get("rel") for e in act_root.findall("link")})
    assert COMPUTE_COLLECTIONS <= common, f"entry point lacks {sorted(COMPUTE_COLLECTIONS - common)}"
    for root in (exp_root, act_root):
        for link in root.findall("link"):
            if link.get("rel") not in common:
                root.remove(link)
    return ET.tostring(exp_root), ET.tostring(act_root)


def _restrict_drivers(expected: bytes, actual: bytes, fmt: str) -> tuple[bytes, bytes]:
    """Compare only the drivers both servers list: the original's config listed 19, and a
    third-party driver installed here (the docs example) is unknown to the original."""
    if fmt == "json":
        exp, act = json.loads(expected), json.loads(actual)
        assert "mock" in act, "the mock driver must be listed"
        common = set(exp) & set(act)
        exp = {k: v for k, v in exp.items() if k in common}
        act = {k: v for k, v in act.items() if k in common}
        for driver_id, config in act.items():
            # Credential labels (what a UI asks for) are an extension where the original had none.
            for label in ("username", "password"):
                if label not in exp[driver_id]:
                    config.pop(label, None)
        return json.dumps(exp).encode(), json.dumps(act).encode()
    exp_root, act_root = ET.fromstring(expected), ET.fromstring(actual)
    theirs = {e.get("id") for e in exp_root.findall("driver")}
    ours = {e.get("id") for e in act_root.findall("driver")}
    assert "mock" in ours, "the mock driver must be listed"
    for root, keep in ((exp_root, ours), (act_root, theirs)):
        for driver in root.findall("driver"):
            if driver.get("id") not in keep:
                root.remove(driver)
    return ET.tostring(exp_root), ET.tostring(act_root)


def _compare_body(rec: GoldenFile, case: Case, reply: Reply) -> str | None:
    content_type = rec.headers.get("Content-Type")
    expected = rec.body
    for old, new in case.subst:
        expected = expected.replace(old.encode(), new.encode())
    actual = reply.body
    ignore = ALWAYS_IGNORED + case.ignore
    if rec.request.method == "HEAD":
        return None if not actual else f"HEAD answer has a body: {actual[:80]!r}"
    if case.body == "none":
        return None
    if case.body == "png":
        ok = actual == b"" or actual.startswith(b"\x89PNG\r\n\x1a\n")
        return None if ok else f"not a PNG: {actual[:16]!r}"
    if content_type is None:
        return None if actual == b"" else f"expected an empty body, got {actual[:200]!r}"
    fmt = "json" if content_type == "application/json" else "xml" if content_type == "application/xml" else None
    if fmt and case.common_links:
        expected, actual = _restrict_entry_point(expected, actual, fmt)
    if fmt and case.common_drivers:
        expected, actual = _restrict_drivers(expected, actual, fmt)
    if fmt == "xml":
        return xml_diff(expected, actual, ignore=ignore)
    if fmt == "json":
        if case.extension is not None:
            ours = json.loads(actual)
            case.extension(ours)
            actual = json.dumps(ours).encode()
        return json_diff(expected, actual, ignore=ignore)
    if content_type == "text/html;charset=utf-8":
        if rec.headers.has("X-Cascade"):
            return None  # the framework's "not found" page: any page will do (API.md conventions)
        return None if actual == expected else f"expected the text {expected!r}, got {actual[:300]!r}"
    return None  # HTML documents: status and headers only (their content is tested elsewhere)


@pytest.mark.parametrize("name", _params())
def test_golden(name, anon, app):
    if name in NEEDS_EC2 and "ec2" not in app.drivers.names():
        pytest.skip("needs the ec2 driver (TESTSUITE A.1 requires one with a static entry point); "
                        "it is not installed")
    if name in NOT_YET and NOT_YET[name] not in {c.name for c in app.collections}:
        pytest.skip(f"{NOT_YET[name]} is not registered by the core yet (a later issue): no route answers "
                    f"the original's 412/OPTIONS for it; compared as soon as the collection exists")
    case = CASES.get(name, Case())
    rec = golden(name)
    _run_setup(anon, app, case.setup)
    reply = replay(anon, rec.request, app)
    skip_headers = case.skip_headers
    if case.body == "png" and reply.body == b"":
        skip_headers += ("ETag", "Cache-Control")  # Graphviz missing: an empty 200 has no ETag
    problems = header_diff(rec.headers, reply.status, reply.headers, reply.body, method=rec.request.method,
                           skip=skip_headers)
    body_problem = _compare_body(rec, case, reply)
    if body_problem:
        problems.append(f"body: {body_problem}")
    assert not problems, (f"{rec.request.method} {rec.request.target} differs from {name}:\n  "
                          + "\n  ".join(problems) + f"\n--- our body:\n{reply.text[:1500]}")
    if case.check:
        case.check(reply)


# -- partial comparisons --------------------------------------------------------------------------

def test_options_api_allow_is_the_originals_list_restricted_to_our_collections(anon):
    """``options_api.txt``: the Allow list names the same class names, in the same order, for every
    collection we register; body empty (Recommended), hence no ETag."""
    rec = golden("options_api.txt")
    recorded = rec.headers.get("Allow").split(",")
    reply = replay(anon, rec.request)
    ours = reply.headers["Allow"].split(",")
    assert set(ours) <= set(recorded), sorted(set(ours) - set(recorded))
    assert [c for c in recorded if c in ours] == ours
    api = anon.get("/api?format=json").json()["api"]
    expected = ["Deltacloud::Rabbit::" + "".join(p.title() for p in link["rel"].split("_")) + "Collection"
                for link in api["links"]]
    assert ours == expected
    assert reply.body == b""
    assert "ETag" not in reply.headers


# -- our deliberate deviations (see DEVIATIONS) ---------------------------------------------------

def test_deviation_format_gv_answers_graphviz_source(anon):
    reply = anon.get("/api/instance_states?format=gv")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/ghostscript"
    text = reply.text
    assert text.lstrip().startswith("digraph instance_states")
    assert "rankdir=LR" in text.replace(" ", "")
    for state in ("Start", "Pending", "Running", "Stopped", "Finish"):
        assert state in text
    for label in ("create", "auto", "reboot", "stop", "start", "destroy"):
        assert label in text


def test_deviation_accept_ghostscript_answers_graphviz_source(anon):
    reply = anon.get("/api/instance_states", headers={"Accept": "application/ghostscript"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/ghostscript"
    assert reply.text.lstrip().startswith("digraph instance_states")


def test_deviation_hwp_memory_out_of_range_is_400(client):
    rec = golden("create_instance_hwp_memory_out_of_range.xml")
    reply = replay(client, rec.request)
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/xml"
    root = ET.fromstring(reply.body)
    assert root.tag == "error" and root.get("status") == "400"
    assert root.findtext("code") == "400"
    assert "Location" not in reply.headers
    assert client.get("/api/instances/inst4?format=xml").status_code == 404  # nothing was created


@pytest.mark.parametrize(("name", "value"), [("hwp_cpu", "7"), ("hwp_storage", "999"), ("hwp_memory", "7000")])
def test_deviation_other_overrides_outside_the_profile_are_400(client, name, value):
    reply = client.post("/api/instances?format=json", data={"image_id": "img1", "hwp_id": "m1-large", name: value})
    assert reply.status_code == 400
    assert reply.json()["code"] == 400
    assert client.get("/api/instances/inst4?format=json").status_code == 404


@pytest.mark.parametrize(("name", "value", "key"), [("hwp_memory", "8192", "memory"), ("hwp_cpu", "6", "cpu"),
                                                   ("hwp_storage", "1024", "storage")])
def test_deviation_overrides_inside_the_profile_are_stored(client, name, value, key):
    reply = client.post("/api/instances?format=json", data={"image_id": "img1", "hwp_id": "m1-large", name: value})
    assert reply.status_code == 201
    profile = reply.json()["instance"]["hardware_profile"]
    assert profile["id"] == "m1-large"
    assert profile["properties"] == {key: value}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_deviation_run_on_mock_answers_200_with_run_result(client, fmt):
    reply = client.post(f"/api/instances/inst1/run?format={fmt}", data={"cmd": "uname"})
    assert reply.status_code == 200
    output = "This is where the output from 'uname' would appear if this were not a mock provider"
    if fmt == "json":
        assert reply.headers["content-type"] == "application/json"
        assert reply.json() == {"instance": {"id": "inst1", "public_address": "img1.inst1.public.com",
                                             "command": "uname", "output": output}}
    else:
        assert reply.headers["content-type"] == "application/xml"
        assert not reply.text.startswith("<?xml")  # the run result has no XML declaration
        root = ET.fromstring(reply.content)
        assert root.tag == "instance" and root.get("id") == "inst1"
        assert normalize_base(root.get("href")) == "<base>/api/instances/inst1"
        assert [c.tag for c in root] == ["public_address", "command", "output"]
        assert root.findtext("public_address") == "img1.inst1.public.com"
        assert root.findtext("command") == "uname"
        assert root.findtext("output").strip() == output


def test_deviation_json_image_create_answers_201(client):
    rec = golden("error_500_create_image_json.json")
    reply = replay(client, rec.request)
    assert reply.status == 201
    assert reply.headers["content-type"] == "application/json"
    assert normalize_base(reply.headers["location"]) == "<base>/api/images/goldencheck-img2"
    image = json.loads(reply.body)["image"]
    assert list(image) == ["id", "href", "name", "description", "owner", "architecture", "state", "root_type",
                           "creation_time", "hardware_profiles"]
    assert image["id"] == image["name"] == "goldencheck-img2"
    assert image["owner"] == "root" and image["architecture"] == "i386" and image["state"] == "AVAILABLE"
    assert image["hardware_profiles"] == []
    assert client.get("/api/images/goldencheck-img2?format=json").status_code == 200


def test_deviation_destroy_unknown_key_is_404(client):
    rec = golden("error_500_destroy_key_unknown.json")
    reply = replay(client, rec.request)  # goldencheck-key1 does not exist in a fresh store
    assert reply.status == 404
    document = json.loads(reply.body)
    assert list(document) == ["code", "message", "error"]
    assert document["code"] == 404
    assert document["error"] == "Deltacloud::Exceptions::ObjectNotFound"
    assert document["message"]


def test_deviation_accept_parameters_other_than_q_are_ignored(client):
    rec = golden("error_406_instances_accept_json_charset.txt")
    reply = replay(client, rec.request)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert "instances" in json.loads(reply.body)


@pytest.mark.parametrize("name", ["error_500_unknown_driver_header.json", "error_500_unknown_driver_matrix.json"])
def test_deviation_unknown_driver_is_400_with_the_install_hint(anon, name):
    reply = replay(anon, golden(name).request)
    assert reply.status == 400
    document = json.loads(reply.body)
    assert document["code"] == 400 and document["error"] == "Deltacloud::Exceptions::ValidationFailure"
    assert document["message"].startswith("Driver 'nosuch' is not available (")
    assert "pip install deltacloud-nosuch" in document["message"] and "mock" in document["message"]


def test_deviation_q_zero_is_not_acceptable(client):
    assert client.get("/api/instances", headers={"Accept": "application/json;q=0"}).status_code == 406
    assert client.get("/api/instances", headers={"Accept": "text/html;q=0, */*;q=0"}).status_code == 406
    kept = client.get("/api/instances", headers={"Accept": "application/json;q=0, application/xml"})
    assert kept.headers["content-type"] == "application/xml"


def test_deviation_body_without_credentials_is_401_unread(anon, client):
    response = anon.post("/api/instances?format=json", data={"name": "x"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert anon.post("/api/instances?format=xml").status_code == 400  # no body: the original's order


def test_deviation_valid_format_wins_over_unacceptable_accept(client):
    rec = golden("error_406_format_json_accept_unknown.txt")
    reply = replay(client, rec.request)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert json_diff(golden("instances.json").body, reply.body) is None


def test_deviation_image_list_with_image_without_description(client):
    for data in ({"instance_id": "inst1", "name": "goldencheck-img1", "description": "golden check image"},
                 {"instance_id": "inst1", "name": "goldencheck-img2"}):
        assert client.post("/api/images?format=xml", data=data).status_code == 201
    for fmt in ("xml", "json"):
        reply = client.get(f"/api/images?format={fmt}")
        assert reply.status_code == 200, reply.text[:300]
    ids = [image["id"] for image in reply.json()["images"]]
    assert {"goldencheck-img1", "goldencheck-img2", "img1", "img2", "img3"} == set(ids)


def test_deviation_post_matrix_param_on_last_segment_counts(client):
    reply = client.post("/api/images;instance_id=inst1?format=json", data={"name": "matrix-img"})
    assert reply.status_code == 201, reply.text[:300]
    assert normalize_base(reply.headers["location"]) == "<base>/api/images/matrix-img"


def test_post_body_parameter_beats_matrix_parameter(client):
    reply = client.post("/api/images;instance_id=nope?format=json", data={"instance_id": "inst1", "name": "m2"})
    assert reply.status_code == 201, reply.text[:300]


# -- the comparison helpers themselves: they must see the differences that matter -----------------

def test_xml_diff_ignores_presentation_only():
    original = "<a x='1' href='http://127.0.0.1:3001/api/b'>\n  <b>\n   text \n  </b>\n  <c />\n</a>"
    ours = '<a href="http://testserver/api/b" x="1"><b>text</b><c></c></a>'
    assert xml_diff(original, ours) is None


@pytest.mark.parametrize(("ours", "where"), [
    ("<a x='1'><b>other</b><c/></a>", "/a/b (text)"),
    ("<a x='2'><b>text</b><c/></a>", "/a/@x"),
    ("<a x='1' y='0'><b>text</b><c/></a>", "attributes differ"),
    ("<a x='1'><b>text</b></a>", "children differ at position 2"),
    ("<a x='1'><c/><b>text</b></a>", "children differ at position 1"),
    ("<z x='1'><b>text</b><c/></z>", "expected element <a>"),
])
def test_xml_diff_reports_the_first_difference(ours, where):
    problem = xml_diff("<a x='1'><b>text</b><c/></a>", ours)
    assert problem is not None and where in problem


def test_xml_diff_paths_and_ignores():
    original = "<l><i id='1'><n>a</n></i><i id='2'><n>b</n></i></l>"
    problem = xml_diff(original, "<l><i id='1'><n>a</n></i><i id='2'><n>c</n></i></l>")
    assert problem.startswith("at /l/i[2]/n (text)")
    assert xml_diff(original, "<l><i id='1'><n>a</n></i><i id='2'><n>c</n></i></l>", ignore=("/l/i/n",)) is None
    assert xml_diff(original, "<l><i id='1'><n>x</n></i><i id='2'><n>c</n></i></l>", skip=("/l/*",)) is None


@pytest.mark.parametrize(("ours", "where"), [
    ('{"a": {"b": 0, "c": [1, 2]}}', "at $.a.b: expected string"),
    ('{"a": {"c": [1, 2], "b": "0"}}', "key order differs"),
    ('{"a": {"b": "0"}}', "keys differ"),
    ('{"a": {"b": "0", "c": [1]}}', "at $.a.c: expected 2 items"),
    ('{"a": {"b": "0", "c": [1, true]}}', "at $.a.c[1]: expected integer"),
])
def test_json_diff_reports_the_first_difference(ours, where):
    problem = json_diff('{"a": {"b": "0", "c": [1, 2]}}', ours)
    assert problem is not None and where in problem


def test_json_diff_normalises_base_urls_and_ignores():
    assert json_diff('{"h": "http://127.0.0.1:3001/api/x"}', '{"h": "https://example.org:8443/api/x"}') is None
    assert json_diff('{"h": "http://127.0.0.1:3001/api/x"}', '{"h": "http://127.0.0.1:3001/api/y"}')
    assert json_diff('{"k": [{"p": 1}]}', '{"k": [{"p": 2}]}', ignore=("$.k[].p",)) is None


def test_header_diff_sees_what_matters():
    rec = golden("instances_inst0.xml")
    body = b"<instance/>"
    etag = hashlib.md5(body).hexdigest()
    good = {"Content-Type": "application/xml", "Server": "Apache-Deltacloud/1.1.3", "X-Deltacloud-Driver": "mock",
            "ETag": etag, "Cache-Control": "x", "X-Backend-Runtime": "0.01"}
    assert header_diff(rec.headers, 200, good, body) == []
    assert header_diff(rec.headers, 404, good, body)
    assert header_diff(rec.headers, 200, {**good, "Content-Type": "application/xml;charset=utf-8"}, body)
    assert header_diff(rec.headers, 200, {**good, "ETag": "abc"}, body)
    assert header_diff(rec.headers, 200, {**good, "X-Deltacloud-Provider": "p"}, body)
    assert header_diff(rec.headers, 200, {k: v for k, v in good.items() if k != "X-Backend-Runtime"}, body)
    assert header_diff(rec.headers, 200, {**good, "Location": "http://x/api"}, body)


def test_curl_arguments_are_read_back():
    req = parse_curl_args("http://127.0.0.1:3001/api/images?format=xml",
                          "-u mockuser:mockpassword -X POST -d instance_id=inst1 -d name=goldencheck-img1 "
                          "-d description=golden check image")
    assert (req.method, req.target, req.auth) == ("POST", "/api/images?format=xml", MOCK_AUTH)
    assert req.data == ("instance_id=inst1", "name=goldencheck-img1", "description=golden check image")
    req = parse_curl_args("http://127.0.0.1:3001/api?format=xml", "-H Host: --http1.0")
    assert req.removed == {"host"} and req.http10 and req.method == "GET"
    req = golden("instances_accept_restclient.xml").request
    assert req.headers == (("Accept", "*/*; q=0.5, application/xml"),)
    assert golden("head_instances.xml").request.method == "HEAD"
    assert golden("error_400_create_instance_without_image.xml").request.data == ("",)
