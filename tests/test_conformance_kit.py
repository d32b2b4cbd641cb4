"""The conformance kit catches real mistakes: broken drivers fail it, naming the problem.

Each test writes a small broken variant of the mock driver into a pytester directory, runs the
kit's tests that should catch it, and checks the run fails with a message that names the mistake.
"""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("deltacloud_mock", reason="the mock driver (plugins/deltacloud-mock) is not installed")

pytest_plugins = ["pytester"]

HEADER = '''
from dataclasses import replace

import pytest
from deltacloud_core import Credentials
from deltacloud_core.testing import ConformanceSettings, {suite}

from deltacloud_mock.driver import MockDriver
from deltacloud_mock.store import ENV_VAR


class Broken(MockDriver):
{body}


class TestBroken({suite}):
    settings = ConformanceSettings(max_examples=3, stateful_steps=4, settle_timeout=5.0, poll_interval=0.01)
    tolerated_features = frozenset({{"instances:user_Data", "images:user_name", "images:user_description"}})

    @pytest.fixture
    def driver(self, tmp_path, monkeypatch):
        monkeypatch.setenv(ENV_VAR, str(tmp_path / "mock-storage"))
        return Broken(credentials=Credentials("mockuser", "mockpassword"))
'''


def run_kit(pytester: pytest.Pytester, body: str, *select: str, suite: str = "DriverConformance") -> str:
    """Run the kit's tests ``select`` (``-k``) against ``Broken``; assert they fail; the output."""
    pytester.makepyfile(test_broken=HEADER.format(suite=suite, body=textwrap.indent(textwrap.dedent(body), "    ")))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-k", " or ".join(select))
    output = result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, f"the kit did not fail the broken driver:\n{output}"
    assert not outcomes.get("error"), output
    return output


def test_advertised_actions_disagree_with_the_state_machine(pytester: pytest.Pytester) -> None:
    output = run_kit(pytester, '''
        def instance_actions_for(self, instance):
            """Forgets that a running instance can be rebooted."""
            return [a for a in super().instance_actions_for(instance) if a != "reboot"]
    ''', "test_instance_lifecycle")
    assert "advertises ['stop']; the machine allows ['reboot', 'stop']" in output, output


def test_a_listed_state_the_machine_lacks(pytester: pytest.Pytester) -> None:
    output = run_kit(pytester, '''
        def get_instance(self, id):
            """Reports running instances as 'BOOTED', which its state machine does not know."""
            instance = super().get_instance(id)
            return replace(instance, state="BOOTED") if instance and instance.state == "RUNNING" else instance
    ''', "test_instance_lifecycle")
    assert "'BOOTED', not a state of the machine" in output, output


def test_get_of_an_unknown_id_returns_something(pytester: pytest.Pytester) -> None:
    output = run_kit(pytester, '''
        def get_realm(self, id):
            """Answers any id with the first realm instead of None."""
            return super().get_realm(id) or self.list_realms()[0]
    ''', "test_not_found and realms")
    assert "GET /api/realms/" in output and "expected 404, got 200" in output, output
    assert "get_* must return None for an unknown id" in output, output


@pytest.mark.parametrize("suite", ["DriverConformance", "ApiConformance"])
def test_get_of_an_unknown_id_raises_the_wrong_error(pytester: pytest.Pytester, suite: str) -> None:
    output = run_kit(pytester, '''
        def get_key(self, id):
            """Lets its store's KeyError out instead of answering None."""
            key = super().get_key(id)
            if key is None:
                raise KeyError(id)
            return key
    ''', "test_not_found and keys", suite=suite)
    assert "GET /api/keys/" in output and "get_* must return None for an unknown id" in output, output
    expected = "the driver raised KeyError" if suite == "DriverConformance" else "expected 404, got 500"
    assert expected in output, output
