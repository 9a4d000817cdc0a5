import httpx

from dailypapers.services.imports import import_seeds
from tests.conftest import SEEDS


def test_real_server_process_serves_the_imported_day(live_server, db):
    import_seeds(db=db, paths=SEEDS, year=2025)
    response = httpx.get(f"{live_server}/", follow_redirects=True)
    assert response.status_code == 200
    # The newest (estimated) day of a seed card; the page headers' days feature nothing.
    assert str(response.url).endswith("/papers/date/2025-12-02")
    assert "Continuous Thought Machines" in httpx.get(f"{live_server}/papers/date/2025-05-08").text
