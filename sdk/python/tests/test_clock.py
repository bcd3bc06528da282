from __future__ import annotations

import threading

import pytest

from maestro_sdk import CancelToken, Cancelled, FakeClock, SystemClock


def test_the_system_clock_sleep_ends_at_once_on_cancel():
    cancel = CancelToken()
    threading.Timer(0.05, cancel.cancel, args=("stop",)).start()
    with pytest.raises(Cancelled, match="stop"):
        SystemClock().sleep(600, cancel)  # would hang the test for ten minutes without the cancel


def test_a_cancelled_token_raises_before_any_sleep():
    cancel = CancelToken()
    cancel.cancel()
    cancel.cancel("second reason is ignored")
    with pytest.raises(Cancelled, match="asked to stop"):
        FakeClock().sleep(1, cancel)
    assert cancel.reason is not None and cancel.reason.code == "cancelled"


def test_the_fake_clock_runs_callbacks_in_time_order_as_it_advances():
    clock, seen = FakeClock(start=100), []
    clock.call_at(130, lambda: seen.append(("b", clock.now())))
    clock.call_at(110, lambda: seen.append(("a", clock.now())))
    clock.advance(20)
    assert seen == [("a", 110)] and clock.now() == 120
    clock.sleep(60)
    assert seen == [("a", 110), ("b", 130)] and clock.now() == 180
