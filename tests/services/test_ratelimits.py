import pytest

from dailypapers.services import ratelimits as rl
from dailypapers.services.errors import RateLimited

RULE = rl.Rule("test", 3, 60, "Slow down.")


def test_burst_of_limit_then_refused_with_retry_after(db):
    now = 1_000_000
    for _ in range(3):
        rl.hit(db=db, rule=RULE, subject="ada", now_ms=now)
    with pytest.raises(RateLimited) as refused:
        rl.hit(db=db, rule=RULE, subject="ada", now_ms=now)
    assert refused.value.retry_after == 20  # one slot frees every 60/3 s
    with pytest.raises(RateLimited):
        rl.check(db=db, rule=RULE, subject="ADA", now_ms=now)  # keys are case-insensitive
    rl.hit(db=db, rule=RULE, subject="grace", now_ms=now)  # other subjects are unaffected
    rl.hit(db=db, rule=RULE, subject="ada", now_ms=now + 20_000)  # a slot has freed up
    with pytest.raises(RateLimited):
        rl.hit(db=db, rule=RULE, subject="ada", now_ms=now + 20_000)


def test_check_does_not_count_and_reset_forgets(db):
    for _ in range(5):
        rl.check(db=db, rule=RULE, subject="x", now_ms=0)
    for _ in range(3):
        rl.hit(db=db, rule=RULE, subject="x", now_ms=0)
    rl.reset(db=db, rule=RULE, subject="x")
    rl.hit(db=db, rule=RULE, subject="x", now_ms=0)


def test_scale_multiplies_and_zero_disables(db):
    for _ in range(6):
        rl.hit(db=db, rule=RULE, subject="s", scale=2, now_ms=0)
    with pytest.raises(RateLimited):
        rl.hit(db=db, rule=RULE, subject="s", scale=2, now_ms=0)
    for _ in range(50):
        rl.hit(db=db, rule=RULE, subject="off", scale=0, now_ms=0)
