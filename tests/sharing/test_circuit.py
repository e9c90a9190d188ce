"""The circuit breaker: closed → open → half-open → closed or open again, on an injected clock."""

from __future__ import annotations

import contextlib
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.sharing.circuit import CircuitBreaker, CircuitOpen, State, breaker_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(threshold: int = 5, cooldown: float = 30.0) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker(failure_threshold=threshold, cooldown_seconds=cooldown, now=clock), clock


def play(breaker: CircuitBreaker, clock: Clock, steps: str) -> list[str]:
    """Run the steps; each call's outcome: "ok" or "fail" (admitted and reported) or "refused".

    F: a call that fails, S: a call that succeeds, +N: N seconds pass.
    """
    outcomes = []
    for step in steps.split():
        if step.startswith("+"):
            clock.now += float(step[1:])
            continue
        try:
            permit = breaker.admit()
        except CircuitOpen:
            outcomes.append("refused")
            continue
        if step == "F":
            breaker.record_failure(permit)
            outcomes.append("fail")
        else:
            breaker.record_success(permit)
            outcomes.append("ok")
    return outcomes


@pytest.mark.parametrize(
    ("steps", "state", "last"),
    [
        ("F F F F", State.CLOSED, "fail"),
        ("F F F F F", State.OPEN, "fail"),
        ("F F F F S F F F F", State.CLOSED, "fail"),
        ("F F F F F S", State.OPEN, "refused"),
        ("F F F F F +29.9 S", State.OPEN, "refused"),
        ("F F F F F +30", State.HALF_OPEN, "fail"),
        ("F F F F F +30 S", State.CLOSED, "ok"),
        ("F F F F F +30 F", State.OPEN, "fail"),
        ("F F F F F +30 F +29 S", State.OPEN, "refused"),
        ("F F F F F +30 F +30 S", State.CLOSED, "ok"),
        # Closed again, it needs a full run of failures to open.
        ("F F F F F +30 S F F F F", State.CLOSED, "fail"),
    ],
)
def test_the_breaker_moves_between_states_as_the_calls_succeed_or_fail(steps, state, last):
    breaker, clock = make()

    outcomes = play(breaker, clock, steps)

    assert breaker.state == state
    assert outcomes[-1] == last


def test_an_open_breaker_says_when_the_next_trial_may_go():
    breaker, clock = make(threshold=1, cooldown=30)
    play(breaker, clock, "F +12")

    with pytest.raises(CircuitOpen) as refused:
        breaker.admit()

    assert refused.value.retry_after == pytest.approx(18)


def test_half_open_lets_one_trial_through_and_refuses_the_others_until_it_reports():
    breaker, clock = make(threshold=1, cooldown=10)
    play(breaker, clock, "F +10")

    trial = breaker.admit()
    with pytest.raises(CircuitOpen):
        breaker.admit()
    breaker.record_success(trial)

    assert trial.trial
    assert breaker.state == State.CLOSED
    assert not breaker.admit().trial


def test_a_slow_call_admitted_before_the_breaker_opened_cannot_close_it():
    breaker, clock = make(threshold=2, cooldown=10)
    slow = breaker.admit()
    play(breaker, clock, "F F")

    breaker.record_success(slow)

    assert breaker.state == State.OPEN


def test_a_late_failure_of_a_call_from_before_does_not_reopen_a_closed_breaker():
    breaker, clock = make(threshold=1, cooldown=10)
    slow = breaker.admit()
    play(breaker, clock, "F +10 S")

    breaker.record_failure(slow)

    assert breaker.state == State.CLOSED


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 30), (5, -1), (5, float("nan"))], ids=str)
def test_nonsense_settings_are_refused(threshold, cooldown):
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, cooldown_seconds=cooldown)


def test_each_source_has_one_breaker_for_the_process():
    first = breaker_for("test_circuit_source_a", failure_threshold=2)
    again = breaker_for("test_circuit_source_a", failure_threshold=9)
    other = breaker_for("test_circuit_source_b")

    assert first is again
    assert first.failure_threshold == 2
    assert other is not first


def test_failures_from_many_threads_open_the_breaker_once_they_reach_the_threshold():
    breaker, _ = make(threshold=40, cooldown=30)
    start = threading.Barrier(8)

    def fail_some() -> None:
        start.wait()
        for _ in range(6):
            with contextlib.suppress(CircuitOpen):
                breaker.record_failure(breaker.admit())

    threads = [threading.Thread(target=fail_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert breaker.state == State.OPEN
    with pytest.raises(CircuitOpen):
        breaker.admit()


operations = st.lists(
    st.one_of(
        st.just(("admit",)),
        st.tuples(st.just("call"), st.booleans()),
        st.tuples(st.just("report"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("wait"), st.sampled_from([0.5, 5.0, 9.9, 10.0, 25.0])),
    ),
    max_size=80,
)


@given(threshold=st.integers(1, 4), steps=operations)
def test_half_open_has_at_most_one_trial_out_and_open_refuses_until_the_cool_down(threshold, steps):
    cooldown = 10.0
    breaker, clock = make(threshold=threshold, cooldown=cooldown)
    outstanding = []  # permits admitted and not yet reported, oldest first
    opened_at = None

    for step in steps:
        if step[0] == "wait":
            clock.now += step[1]
            continue
        if step[0] == "report":
            if not outstanding:
                continue
            permit = outstanding.pop(step[1] % len(outstanding))
            before = breaker.state
            if step[2]:
                breaker.record_success(permit)
            else:
                breaker.record_failure(permit)
            if breaker.state == State.OPEN and before != State.OPEN:
                opened_at = clock.now
            continue
        state = breaker.state
        if state == State.OPEN:
            assert opened_at is not None
            assert clock.now < opened_at + cooldown
        trials_out = [p for p in outstanding if p.trial and state == State.HALF_OPEN]
        try:
            permit = breaker.admit()
        except CircuitOpen:
            assert state == State.OPEN or trials_out
            continue
        assert state != State.OPEN
        if permit.trial:
            assert state == State.HALF_OPEN
            assert not trials_out, "a second trial while the first is out"
            assert opened_at is not None
            assert clock.now >= opened_at + cooldown
        if step[0] == "call":  # answered at once
            before = breaker.state
            if step[1]:
                breaker.record_success(permit)
            else:
                breaker.record_failure(permit)
            if breaker.state == State.OPEN and before != State.OPEN:
                opened_at = clock.now
        else:
            outstanding.append(permit)
