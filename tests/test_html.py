"""The browsable HTML UI: every page renders, forms post plain form fields to the API routes."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

BASE_URL = "http://127.0.0.1:3001"  # as in tests/conftest.py

HTML = {"Accept": "text/html"}
XML = {"Accept": "application/xml"}
API = f"{BASE_URL}/api"

#: Elements that never have a closing tag.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """A parsed page: tag balance, links, images and the forms with their submitted fields."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []
        self._disabled = 0  # depth inside <fieldset disabled>: its controls are neither shown nor sent
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")

    # -- parsing ---------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "fieldset" and ("disabled" in a or self._disabled):
            self._disabled += 1
        if self._disabled and tag in ("input", "select", "option", "textarea"):
            return
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "script":
            self.scripts.append(a.get("src", ""))
        elif tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": [],
                          "controls": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and "name" in a:
            kind = a.get("type", "text")
            self._form["controls"].append({"tag": "input", **a})
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image"):
                self._form["fields"].append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "select" and "name" in a:
            self._select = {"name": a["name"], "options": [], "selected": None}
            self._form["controls"].append({"tag": "select", **a, "options": self._select["options"]})
        elif self._select is not None and tag == "option":
            value = a.get("value")
            self._select["options"].append(value)
            self._select["_pending"] = value
            if "selected" in a:
                self._select["selected"] = value
        elif self._form is not None and tag == "textarea" and "name" in a:
            self._textarea = {"name": a["name"], "text": ""}
            self._form["controls"].append({"tag": "textarea", **a})

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag == "fieldset" and self._disabled:
            self._disabled -= 1
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            sel = self._select
            value = sel["selected"] if sel["selected"] is not None else (sel["options"] or [None])[0]
            if value is not None:
                self._form["fields"].append((sel["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].append((self._textarea["name"], self._textarea["text"]))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._textarea is not None:
            self._textarea["text"] += data
        if self._select is not None and self._select.get("_pending") is None and data.strip():
            # <option>text</option> without value: the text is the value
            self._select["options"][-1:] = [data.strip()]

    # -- queries ---------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))

    def form(self, action: str, method: str = "post") -> dict:
        found = [f for f in self.forms if f["action"] == action and f["method"] == method]
        assert found, f"no {method} form to {action} in {[(f['method'], f['action']) for f in self.forms]}"
        return found[0]

    def control(self, form: dict, name: str) -> dict:
        found = [c for c in form["controls"] if c.get("name") == name]
        assert found, f"no control {name} in form {form['action']}"
        return found[0]


def page(response) -> Page:
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    parsed = Page(response.text)
    assert not parsed.problems, parsed.problems
    return parsed


def get(client, path: str, **kwargs):
    return client.get(path, headers=HTML, **kwargs)


def submit(client, form: dict, **overrides: str):
    """Post a form as a browser would: its fields (overridden by name), urlencoded."""
    fields = [(k, v) for k, v in form["fields"] if k not in overrides] + list(overrides.items())
    return client.post(form["action"], data=dict(fields), headers=HTML, follow_redirects=False)


# -- every page ---------------------------------------------------------------------------------

PAGES = [
    "/api", "/api/",
    "/api/realms", "/api/realms/us",
    "/api/hardware_profiles", "/api/hardware_profiles/m1-large", "/api/hardware_profiles/opaque",
    "/api/images", "/api/images/img1", "/api/images?owner_id=fedoraproject",
    "/api/instances", "/api/instances/inst1",
    "/api/keys", "/api/keys/test-key",
    "/api/drivers", "/api/drivers/mock",
    "/api/instance_states",
    "/api/instances/new", "/api/instances/new?image_id=img1", "/api/instances/new?image_id=img1&hwp_id=m1-large",
    "/api/images/new?instance_id=inst1", "/api/keys/new", "/api/instances/inst1/run",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders(client, path):
    response = get(client, path)
    assert response.status_code == 200, response.text
    assert response.text.startswith("<!DOCTYPE html>")
    parsed = page(response)
    # Plain HTML: the only script is the server's own small, deferred progressive-enhancement file.
    assert parsed.scripts == [f"{BASE_URL}/stylesheets/deltacloud.js"]
    assert re.search(r'<script src="[^"]+/deltacloud\.js" defer></script>', response.text)
    # No asset from elsewhere: every link to a stylesheet or image is on this server.
    for ref in re.findall(r'(?:src|href)="(https?://[^"]+)"', response.text):
        assert ref.startswith(BASE_URL), ref
    assert f"{BASE_URL}/stylesheets/deltacloud.css" in response.text
    assert f'href="{API}"' in response.text  # the brand link home


def test_stylesheet_is_served(client):
    response = client.get("/stylesheets/deltacloud.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ".state" in response.text
    assert "http" not in response.text  # no asset from the internet


def test_script_is_served_and_optional(client):
    response = client.get("/stylesheets/deltacloud.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "http" not in response.text  # loads nothing from anywhere


def test_profile_blocks_for_every_adjustable_profile(client):
    """Every adjustable profile has its (disabled, hidden) block, so a script can show the chosen one
    without a reload; only the chosen profile's block is enabled and sent."""
    response = get(client, "/api/instances/new?image_id=img1&hwp_id=m1-large")
    assert ('<fieldset class="hwp-options" id="hwp-options-m1-xlarge" data-profile="m1-xlarge" hidden disabled>'
            in response.text)
    assert '<fieldset class="hwp-options" id="hwp-options-m1-large" data-profile="m1-large">' in response.text
    form = page(response).form(f"{API}/instances")
    assert [n for n, _ in form["fields"] if n == "hwp_memory"] == ["hwp_memory"]


@pytest.mark.parametrize("path", ["/api/instances/new", "/api/instances/new?image_id=img1", "/api/keys/new",
                                  "/api/images/new?instance_id=inst1", "/api/instances/inst1/run"])
def test_forms_are_html_only(client, path):
    assert client.get(path, headers=XML).status_code == 406
    assert client.get(path, headers={"Accept": "application/json"}).status_code == 406


def test_images_new_needs_instance_id(client):
    assert get(client, "/api/images/new").status_code == 404


# -- entry point --------------------------------------------------------------------------------

def test_entry_point(client):
    response = get(client, "/api")
    assert response.text.startswith("<!DOCTYPE html>")
    parsed = page(response)
    for name in ("drivers", "hardware_profiles", "images", "instance_states", "instances", "keys", "realms"):
        assert f"{API}/{name}" in parsed.links
    driver_form = parsed.form(API)
    select = parsed.control(driver_form, "driver")
    assert "mock" in select["options"]
    assert ("driver", "mock") in driver_form["fields"]
    provider_forms = [f for f in parsed.forms if f["action"] == API and any(n == "provider" for n, _ in f["fields"])]
    assert provider_forms
    assert "Deltacloud API 1.1.3" in parsed.text


def test_entry_point_driver_switch_form_posts(client):
    form = page(get(client, "/api")).form(API)
    response = submit(client, form)
    assert response.status_code == 301
    assert response.headers["location"] == f"{API};driver=mock"


def test_entry_point_lists_features(client):
    assert "user_name" in page(get(client, "/api")).text


# -- lists and details ----------------------------------------------------------------------------

def test_instance_list_has_state_badges(client):
    response = get(client, "/api/instances")
    parsed = page(response)
    assert f"{API}/instances/inst1" in parsed.links
    assert '<span class="state state-running">RUNNING</span>' in response.text
    assert f"{API}/instances/new" in parsed.links


def test_instance_page_offers_allowed_actions_only(client):
    response = get(client, "/api/instances/inst1")
    parsed = page(response)
    actions = {f["action"] for f in parsed.forms if f["method"] == "post"}
    assert f"{API}/instances/inst1/stop" in actions
    assert f"{API}/instances/inst1/reboot" in actions
    assert f"{API}/instances/inst1/start" not in actions
    assert f"{API}/instances/inst1" not in actions  # destroy needs a stopped instance
    assert f"{API}/images/new?instance_id=inst1" in parsed.links
    assert f"{API}/instances/inst1/run" in parsed.links
    assert "img1.inst1.public.com" in parsed.text
    assert f"{API}/hardware_profiles/m1-small" in parsed.links
    assert f"{API}/instances/inst1?format=xml" in parsed.links


def test_image_page(client):
    parsed = page(get(client, "/api/images/img1"))
    assert f"{API}/instances/new?image_id=img1" in parsed.links
    destroy = parsed.form(f"{API}/images/img1")
    assert ("_method", "delete") in destroy["fields"]
    assert "Fedora 10" in parsed.text
    assert f"{API}/images?owner_id=fedoraproject" in parsed.links


def test_image_list_has_launch_links(client):
    parsed = page(get(client, "/api/images"))
    assert f"{API}/instances/new?image_id=img1" in parsed.links
    assert f"{API}/images/img2" in parsed.links


def test_hardware_profile_page_shows_property_kinds(client):
    parsed = page(get(client, "/api/hardware_profiles/m1-large"))
    text = parsed.text
    assert "range" in text and "enum" in text and "fixed" in text
    assert "7680 to 15360" in text
    assert "one of 850, 1024" in text
    assert "hwp_memory" in text


def test_realm_and_profile_lists(client):
    assert f"{API}/realms/eu" in page(get(client, "/api/realms")).links
    parsed = page(get(client, "/api/hardware_profiles"))
    assert f"{API}/hardware_profiles/opaque" in parsed.links
    assert "memory 7680 \u2013 15360 MB" in parsed.text


def test_driver_pages(client):
    parsed = page(get(client, "/api/drivers"))
    assert f"{API}/drivers/mock" in parsed.links
    parsed = page(get(client, "/api/drivers/mock"))
    assert "Mock" in parsed.text


def test_instance_states_page(client):
    response = get(client, "/api/instance_states")
    parsed = page(response)
    assert f"{API}/instance_states?format=png" in parsed.images
    text = parsed.text
    assert "Action Destination" in text
    assert "auto" in text
    assert "---" in text  # finish has no way out
    for state in ("start", "pending", "running", "stopped", "finish"):
        assert f'id="state-{state}"' in response.text


def test_error_page(client):
    response = get(client, "/api/instances/nope")
    assert response.status_code == 404
    parsed = page(response)
    assert "<h1>404 - Not Found</h1>" in response.text
    assert "Deltacloud::Exceptions::ObjectNotFound - Not Found" in parsed.text
    assert "/api/instances/nope" in parsed.links


def test_unauthorized_page(anon):
    response = anon.get("/api/instances", headers=HTML)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert re.search(r"<h1>401 - [^<]+</h1>", response.text)
    page(response)


def test_405_page_explains(client):
    response = client.post("/api/instances/inst1", data={"_method": "delete"}, headers=HTML)
    assert response.status_code == 405
    assert "<h1>405 - Method Not Allowed</h1>" in response.text
    assert f"{API}/instance_states" in page(response).links


# -- forms and flows ------------------------------------------------------------------------------

def test_new_instance_form_fields(client):
    parsed = page(get(client, "/api/instances/new?image_id=img1"))
    form = parsed.form(f"{API}/instances")
    fields = dict(form["fields"])
    assert fields["image_id"] == "img1"
    assert set(parsed.control(form, "realm_id")["options"]) >= {"us", "eu"}
    assert set(parsed.control(form, "hwp_id")["options"]) >= {"m1-small", "m1-large", "m1-xlarge", "opaque"}
    assert "name" in fields  # mock has user_name
    assert "test-key" in parsed.control(form, "keyname")["options"]  # mock has authentication_key
    assert parsed.control(form, "user_data")["tag"] == "textarea"
    assert "base64" in parsed.text
    # No profile chosen yet: no property inputs (they would fight over the hwp_* names).
    assert not [n for n, _ in form["fields"] if n.startswith("hwp_") and n != "hwp_id"]


def test_new_instance_form_preselects_realm(client):
    parsed = page(get(client, "/api/instances/new?image_id=img2&realm_id=eu"))
    fields = dict(parsed.form(f"{API}/instances")["fields"])
    assert fields["image_id"] == "img2"
    assert fields["realm_id"] == "eu"


def test_new_instance_form_profile_options(client):
    parsed = page(get(client, "/api/instances/new?image_id=img1&hwp_id=m1-large"))
    form = parsed.form(f"{API}/instances")
    assert dict(form["fields"])["hwp_id"] == "m1-large"
    memory = parsed.control(form, "hwp_memory")
    # A slider bounded by the profile's range, at the profile's default.
    assert (memory["type"], memory["min"], memory["max"], memory["value"]) == ("range", "7680", "15360", "10240")
    cpu = parsed.control(form, "hwp_cpu")
    assert (cpu["min"], cpu["max"]) == ("1", "6")
    storage = parsed.control(form, "hwp_storage")
    assert storage["tag"] == "select"
    assert {"850", "1024"} <= set(storage["options"])
    assert not [c for c in form["controls"] if c.get("name") == "hwp_architecture"]  # fixed


def test_launch_with_profile_override(client):
    form = page(get(client, "/api/instances/new?image_id=img1&hwp_id=m1-large")).form(f"{API}/instances")
    response = submit(client, form, hwp_memory="8192", hwp_storage="1024", name="sized")
    assert response.status_code == 201, response.text
    text = page(response).text
    assert "memory: 8192" in text
    assert "storage: 1024" in text
    assert "m1-large" in text


def test_launch_stop_destroy_flow(client):
    # The form, as a browser gets it.
    parsed = page(get(client, "/api/instances/new?image_id=img1"))
    form = parsed.form(f"{API}/instances")
    response = submit(client, form, name="flow-test")
    assert response.status_code == 201, response.text
    created = page(response)
    assert "flow-test" in created.text
    assert "created" in created.text
    location = response.headers["location"]
    instance_id = location.rsplit("/", 1)[1]
    assert f"Instance {instance_id}" in created.text
    assert "RUNNING" in created.text

    # Stop it with the button of the page.
    stop = created.form(f"{location}/stop")
    response = submit(client, stop)
    assert response.status_code == 202, response.text
    stopped = page(response)
    assert '<span class="state state-stopped">STOPPED</span>' in response.text
    assert created.form  # still a page with forms
    destroy = stopped.form(location)
    assert ("_method", "delete") in destroy["fields"]
    assert f"{location}/start" in {f["action"] for f in stopped.forms}

    # Destroy it: the browser is sent back to the list.
    response = submit(client, destroy)
    assert response.status_code == 303
    assert response.headers["location"] == f"{API}/instances"
    assert client.get(f"/api/instances/{instance_id}", headers=XML).status_code == 404
    assert f"{API}/instances/{instance_id}" not in page(get(client, "/api/instances")).links


def test_profile_options_button_reloads_form(client):
    """'Show profile options' submits the same form by GET to the form URL, keeping what was typed."""
    response = get(client, "/api/instances/new", params={"image_id": "img3", "realm_id": "eu", "hwp_id": "m1-xlarge",
                                                         "name": "kept", "user_data": "aGVsbG8="})
    assert 'formaction="' + f"{API}/instances/new" + '"' in response.text
    form = page(response).form(f"{API}/instances")
    fields = dict(form["fields"])
    assert fields["image_id"] == "img3"
    assert fields["realm_id"] == "eu"
    assert fields["hwp_id"] == "m1-xlarge"
    assert fields["name"] == "kept"
    assert fields["user_data"] == "aGVsbG8="
    assert "hwp_memory" in fields


def test_html_escaping(client):
    nasty = '<script>alert("x")</script>'
    form = page(get(client, "/api/instances/new?image_id=img1")).form(f"{API}/instances")
    response = submit(client, form, name=nasty)
    assert response.status_code == 201
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    listing = get(client, "/api/instances")
    assert "<script>" not in listing.text
    # Reflected parameters are escaped too.
    response = get(client, "/api/instances/new", params={"image_id": '"><b>x', "name": "</textarea><b>"})
    assert "<b>" not in response.text
    page(response)


def test_key_create_and_destroy_flow(client):
    parsed = page(get(client, "/api/keys/new"))
    assert "Create new SSH key" in parsed.text
    form = parsed.form(f"{API}/keys")
    response = submit(client, form, name="html-key")
    assert response.status_code == 201, response.text
    created = page(response)
    assert re.search(r'<pre class="pem">-----BEGIN', response.text)
    destroy = created.form(f"{API}/keys/html-key")
    assert ("_method", "delete") in destroy["fields"]
    assert f"{API}/keys/html-key" in page(get(client, "/api/keys")).links
    response = submit(client, destroy)
    assert response.status_code == 303
    assert response.headers["location"] == f"{API}/keys"
    assert client.get("/api/keys/html-key", headers=XML).status_code == 404


def test_key_create_error_page(client):
    form = page(get(client, "/api/keys/new")).form(f"{API}/keys")
    response = submit(client, form, name="test-key")  # exists already
    assert response.status_code == 403
    assert "Key with same name already exists" in page(response).text


def test_image_create_flow(client):
    parsed = page(get(client, "/api/images/new?instance_id=inst1"))
    form = parsed.form(f"{API}/images")
    assert ("instance_id", "inst1") in form["fields"]
    response = submit(client, form, name="html-image", description="made <here>")
    assert response.status_code == 201, response.text
    created = page(response)
    assert "made <here>" in created.text
    assert "made &lt;here&gt;" in response.text
    destroy = created.form(f"{API}/images/html-image")
    response = submit(client, destroy)
    assert response.status_code == 303
    assert response.headers["location"] == f"{API}/images"


def test_run_command_flow(client):
    parsed = page(get(client, "/api/instances/inst1/run"))
    form = parsed.form(f"{API}/instances/inst1/run")
    response = submit(client, form, cmd="uname -a")
    assert response.status_code == 200, response.text
    text = page(response).text
    assert "uname -a" in text
    assert "would appear" in text


# -- fallback templates (collections without their own pages) ------------------------------------

class _WidgetJson:
    def dump(self, w):
        return {"id": w["id"], "href": f"{API}/widgets/{w['id']}", "name": w["name"], "state": "AVAILABLE",
                "size": 3, "owner": None, "realm": {"id": "us", "href": f"{API}/realms/us", "rel": "realm"},
                "tags": ["a", "<b>"], "nested": {"kind": "x"}, "flag": True,
                "actions": [{"href": f"{API}/widgets/{w['id']}", "rel": "destroy", "method": "delete"},
                            {"href": f"{API}/widgets/{w['id']}/attach", "rel": "attach", "method": "post"}]}


def _render_fallback(outcome):
    from deltacloud_core.collections.base import Resource
    from deltacloud_core.schemas.context import RenderContext
    from deltacloud_core.web.renderers import RenderEnv
    from deltacloud_core.web.renderers.html import HtmlRenderer

    resource = Resource("widget", "widgets", {"json": _WidgetJson()})
    env = RenderEnv(context=RenderContext(api_url=API, driver_name="mock"), resources={"widget": resource},
                    path="/api/widgets", page={"supported_collections": ["widgets"]})
    return HtmlRenderer().render(outcome, env).decode()


def test_fallback_collection_page():
    from deltacloud_core.collections.base import Outcome

    text = _render_fallback(Outcome.collection("widget", [{"id": "w1", "name": "<one>"}, {"id": "w2", "name": "two"}]))
    parsed = Page(text)
    assert not parsed.problems, parsed.problems
    assert text.startswith("<!DOCTYPE html>")
    assert "<h1>Widgets</h1>" in text
    assert f"{API}/widgets/w1" in parsed.links
    assert "&lt;one&gt;" in text
    assert '<span class="state state-available">AVAILABLE</span>' in text
    assert f"{API}/widgets" in parsed.links  # the nav lists the supported collections


def test_fallback_member_page():
    from deltacloud_core.collections.base import Outcome

    text = _render_fallback(Outcome.member("widget", {"id": "w1", "name": "one"}, status=201))
    parsed = Page(text)
    assert not parsed.problems, parsed.problems
    assert "Widget created." in parsed.text
    assert f"{API}/realms/us" in parsed.links
    assert "&lt;b&gt;" in text
    assert ("_method", "delete") in parsed.form(f"{API}/widgets/w1")["fields"]
    assert parsed.form(f"{API}/widgets/w1/attach")
    assert f"{API}/widgets/w1?format=xml" in parsed.links
