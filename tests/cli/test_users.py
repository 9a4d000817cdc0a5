from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.services.accounts import authenticate
from dailypapers.services.sessions import user_for_api_token
from tests.server import settings_env


def _run(settings, *args, input=None):
    env = {k: v for k, v in settings_env(settings).items() if k.startswith("DAILYPAPERS_")}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_create_admin_set_role_list_and_token(settings, database, db):
    made = _run(settings, "users", "create-admin", "--username", "root", "--email", "root@example.org",
                input="a long admin password\na long admin password\n")
    assert made.exit_code == 0, made.output
    assert "root is an admin" in made.output
    user = authenticate(db=db, login="root", password="a long admin password")
    assert user is not None and user.role == "admin"
    demoted = _run(settings, "users", "set-role", "root", "curator")
    assert demoted.exit_code == 0 and "root is now a curator" in demoted.output
    listing = _run(settings, "users", "list")
    assert "root\tcurator\troot@example.org" in listing.output
    token = _run(settings, "users", "create-token", "root").output.strip()
    assert user_for_api_token(db=db, token=token).username == "root"


def test_bad_input_is_a_clear_error(settings, database):
    missing = _run(settings, "users", "set-role", "nobody", "admin")
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output
    weak = _run(settings, "users", "create-admin", "--username", "r2", "--email", "r2@example.org",
                input="short\nshort\n")
    assert weak.exit_code == 1 and "at least 10" in weak.output
