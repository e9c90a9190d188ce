"""Simulator settings: defaults, validation and the backoff schedule."""

from __future__ import annotations

import pytest

from onething.simulator import SimulatorConfig


def test_the_defaults_are_those_of_the_contract():
    config = SimulatorConfig(secret="s")

    assert (
        config.delay_seconds,
        config.failure_rate,
        config.reject_rate,
        config.fail_first_n,
        config.callback_attempts,
        config.seed,
        config.max_body_bytes,
    ) == (2.0, 0.0, 0.0, 0, 8, None, 1024 * 1024)


def test_the_callback_backoff_doubles_from_a_fifth_of_a_second_up_to_a_cap():
    config = SimulatorConfig(secret="s", callback_backoff_max_seconds=1.0)

    assert [config.backoff_after(n) for n in range(1, 6)] == pytest.approx(
        [0.2, 0.4, 0.8, 1.0, 1.0]
    )


def test_a_department_delay_applies_only_to_its_department():
    config = SimulatorConfig(secret="s", delay_seconds=2, department_delays={"tax": 0.5})

    assert (config.delay_for("tax"), config.delay_for("health")) == (0.5, 2.0)


def test_changing_the_callers_dict_does_not_change_the_config():
    delays = {"tax": 0.5}
    config = SimulatorConfig(secret="s", department_delays=delays)

    delays["tax"] = 99

    assert config.delay_for("tax") == 0.5


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"secret": ""}, "secret"),
        ({"failure_rate": -0.1}, "failure_rate"),
        ({"reject_rate": 1.01}, "reject_rate"),
        ({"failure_rate": float("nan")}, "failure_rate"),
        ({"delay_seconds": -1}, "delay_seconds"),
        ({"fail_first_n": -1}, "fail_first_n"),
        ({"fail_first_n": 1.5}, "fail_first_n"),
        ({"callback_attempts": 0}, "callback_attempts"),
        ({"callback_attempts": True}, "callback_attempts"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"department_delays": {"tax": -1}}, "department_delays"),
    ],
)
def test_an_invalid_setting_is_refused_naming_it(settings, field):
    with pytest.raises(ValueError, match=field):
        SimulatorConfig(**{"secret": "s", **settings})
