"""The browsable interface in a real headless Chromium (Debian's ``chromium`` driven by Playwright).

From ``/api`` to an image, launch an instance with the form (a hardware-profile slider), stop it with
its button and see its state change, upload a blob and download it again. Each step leaves a
screenshot under the test's temporary directory (``.../screenshots/NN-step.png``; set
``DELTACLOUD_SCREENSHOTS=DIR`` to keep copies elsewhere).

The browser is the system's (``/usr/bin/chromium``, or ``DELTACLOUD_CHROMIUM``): Playwright's own
browser download is never used. Without a browser the test is skipped on a developer's machine but
fails in CI (``CI=true``), where ``make test`` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MOCK_AUTH = {"username": "mockuser", "password": "mockpassword"}
BLOB = b"Hello from a real browser.\nSecond line: \xc3\xa9t\xc3\xa9.\n"


def _chromium() -> str | None:
    wanted = os.environ.get("DELTACLOUD_CHROMIUM")
    for candidate in (wanted, "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run in CI: {reason} (make test must install it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app on a real socket (uvicorn in a thread); yields its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture
def browser_page(tmp_path: Path):
    executable = _chromium()
    if executable is None:
        _unavailable("no system Chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 820}, http_credentials=MOCK_AUTH, accept_downloads=True)
        context.set_default_timeout(10_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


class Shots:
    """Numbered screenshots of each step."""

    def __init__(self, page, directory: Path) -> None:
        self.page = page
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []
        self.keep = os.environ.get("DELTACLOUD_SCREENSHOTS")

    def __call__(self, name: str) -> Path:
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.taken.append(path)
        if self.keep:
            Path(self.keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(self.keep) / path.name)
        return path


def test_browse_launch_stop_upload_download(server, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    shot = Shots(page, tmp_path / "screenshots")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))

    # The entry point: driver, provider, the switcher, the collections.
    page.goto(f"{server}/api")
    expect(page.locator("h1")).to_have_text("Deltacloud API 1.1.3")
    expect(page.locator("#switch-driver")).to_have_value("mock")
    shot("entry-point")

    # To an image, through the navigation.
    page.get_by_role("navigation", name="Collections").get_by_role("link", name="Images", exact=True).click()
    expect(page.locator("h1")).to_have_text("Images")
    shot("images")
    page.get_by_role("link", name="img1", exact=True).first.click()
    expect(page).to_have_url(f"{server}/api/images/img1")
    shot("image")

    # Launch an instance with the form: a profile, a slider within its range.
    page.get_by_role("link", name="Launch…").click()
    expect(page.locator("#image_id")).to_have_value("img1")
    page.fill("#name", "browser-test")
    page.select_option("#hwp_id", "m1-large")
    options = page.locator("#hwp-options-m1-large")
    expect(options).to_be_visible()  # shown at once by the script, no reload
    expect(page.locator("#hwp-reload")).to_be_hidden()
    slider = page.locator("#hwp_memory-m1-large")
    expect(slider).to_have_attribute("min", "7680")
    expect(slider).to_have_attribute("max", "15360")
    slider.fill("12288")
    expect(page.locator('output[for="hwp_memory-m1-large"]')).to_have_text("12288 MB")
    page.select_option("#hwp_storage-m1-large", "1024")
    shot("launch-form")
    page.locator("button.primary", has_text="Launch instance").click()
    expect(page.locator(".notice")).to_have_text("Instance created.")
    state = page.locator("dl.props .state")
    expect(state).to_have_text("RUNNING")
    expect(page.locator("h1")).to_contain_text("browser-test")
    expect(page.locator("ul.overrides")).to_contain_text("memory: 12288")
    shot("instance-running")

    # Stop it with its button; the page shows the new state and the actions it now allows.
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(state).to_have_text("STOPPED")
    expect(page.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_have_count(0)
    shot("instance-stopped")
    page.goto(f"{server}/api/instances")
    row = page.locator("tr", has_text="browser-test")
    expect(row.locator(".state")).to_have_text("STOPPED")

    # Upload a blob into a bucket, then download it again.
    page.get_by_role("navigation", name="Collections").get_by_role("link", name="Buckets", exact=True).click()
    page.get_by_role("link", name="bucket1", exact=True).first.click()
    shot("bucket")
    page.get_by_role("link", name="Upload new blob…").click()
    page.fill("input[name=blob_id]", "browser-blob")
    page.set_input_files("input[name=blob_data]",
                         files=[{"name": "hello.txt", "mimeType": "text/plain", "buffer": BLOB}])
    page.fill("input[name=meta_name1]", "origin")
    page.fill("input[name=meta_value1]", "chromium")
    shot("upload-form")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("h1")).to_contain_text("browser-blob")
    expect(page.locator("main")).to_contain_text("chromium")
    shot("blob")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert Path(download.path()).read_bytes() == BLOB
    assert download.suggested_filename == "browser-blob"

    # A clear error page.
    page.goto(f"{server}/api/instances/nope")
    expect(page.locator("h1")).to_have_text("404 - Not Found")
    shot("error-page")

    # The documentation, and the OpenAPI description rendered for people.
    page.goto(f"{server}/api/docs/instances/create")
    expect(page.locator("h1")).to_contain_text("create")
    shot("docs-operation")
    page.goto(f"{server}/api/openapi")
    page.fill("#op-filter", "post new instance")
    expect(page.locator("#op-instances_create")).to_be_visible()
    expect(page.locator("#op-instances_stop")).to_be_hidden()
    expect(page.locator("#tag-keys")).to_be_hidden()
    page.locator("#op-instances_create > summary").click()
    expect(page.locator("#op-instances_create")).to_contain_text("Hardware profile m1-large")
    shot("openapi")

    assert not errors, errors
    assert not outside, f"requests left the server: {outside}"
    assert all(p.stat().st_size > 1000 for p in shot.taken)
    print("\nscreenshots:\n" + "\n".join(str(p) for p in shot.taken))


def test_the_instances_page_follows_the_event_stream(server, browser_page, tmp_path):
    """Changes made elsewhere (another client) show on an open instances page without a reload."""
    import httpx
    from playwright.sync_api import expect

    page = browser_page
    shot = Shots(page, tmp_path / "screenshots")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/api/instances")
    expect(page.locator(".live-status")).to_be_visible()  # the stream is open
    marker = page.evaluate("window.__loadedOnce = true")
    assert marker is True
    shot("instances-live")
    with httpx.Client(base_url=server, auth=(MOCK_AUTH["username"], MOCK_AUTH["password"]),
                      headers={"Accept": "application/json"}) as other:
        other.post("/api/instances/inst1/stop")
        expect(page.locator('tr[data-instance="inst1"] .state')).to_have_text("STOPPED")
        created = other.post("/api/instances", data={"image_id": "img1", "name": "from-elsewhere"}).json()["instance"]
        row = page.locator(f'tr[data-instance="{created["id"]}"]')
        expect(row.locator(".state")).to_have_text("RUNNING")
        expect(row).to_contain_text("from-elsewhere")
        shot("instances-live-created")
        other.post(f"/api/instances/{created['id']}/stop")
        expect(row.locator(".state")).to_have_text("STOPPED")
        other.delete(f"/api/instances/{created['id']}")
        expect(row).to_have_count(0)
    assert page.evaluate("window.__loadedOnce") is True  # the same page all along, never reloaded
    assert errors == []
