"""The platform fee and the settlement delay are checked like every other setting: the app refuses to start with a
fee outside 0..10000 basis points or a negative delay."""
from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.config_check import ConfigurationError, money_setting_problems


@pytest.mark.parametrize(("fee", "delay"), [(0, 0), (1000, 7), (10_000, 30)])
def test_sound_money_settings_pass(fee, delay):
    assert money_setting_problems({"PLATFORM_FEE_BPS": fee, "SETTLEMENT_DELAY_DAYS": delay}) == []


@pytest.mark.parametrize(("fee", "delay", "named"), [
    (-1, 7, "PLATFORM_FEE_BPS"), (10_001, 7, "PLATFORM_FEE_BPS"), ("10", 7, "PLATFORM_FEE_BPS"),
    (True, 7, "PLATFORM_FEE_BPS"), (1000, -1, "SETTLEMENT_DELAY_DAYS"), (1000, 1.5, "SETTLEMENT_DELAY_DAYS"),
])
def test_a_bad_money_setting_is_named(fee, delay, named):
    [problem] = money_setting_problems({"PLATFORM_FEE_BPS": fee, "SETTLEMENT_DELAY_DAYS": delay})
    assert problem.startswith(named)


def test_the_app_refuses_to_start_with_a_bad_fee(database_url):
    with pytest.raises(ConfigurationError, match="PLATFORM_FEE_BPS"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, PLATFORM_FEE_BPS=20_000)
