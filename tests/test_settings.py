import pytest
from pydantic import ValidationError

from dailypapers.settings import DEFAULT_SECRET, Settings


@pytest.mark.parametrize("environment", ["test", "production"])
def test_default_secret_is_refused_outside_development(environment):
    with pytest.raises(ValidationError, match="DAILYPAPERS_SECRET_KEY must be set"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET)


def test_development_may_use_the_default_secret_and_others_a_private_one():
    assert Settings(environment="development", secret_key=DEFAULT_SECRET).secret_key == DEFAULT_SECRET
    assert Settings(environment="production", secret_key="s3cr3t-" * 6).environment == "production"


def test_default_sender_address_is_one_the_mail_layer_accepts():
    from dailypapers.mail.message import check_address  # noqa: PLC0415

    check_address(Settings().mail_from)


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_a_secret_shorter_than_32_characters_is_refused(environment):
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment=environment, secret_key="x" * 31)
    assert len(Settings(environment=environment, secret_key="x" * 32).secret_key) == 32
