"""The library, collections, follows and the private feed over HTTP (TestClient on the test's real
database): in-place fragments, plain-form redirects, who may see what, exports, and a private
feed that feedparser reads and that stops working when its token is revoked."""

from __future__ import annotations

import re

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.web.app import create_app
from tests.community.helpers import csrf_from, sign_up
from tests.factories import make_paper

INPLACE = {"X-Inplace": "1"}


@pytest.fixture
def app(settings, database):
    return create_app(settings.model_copy(update={"page_cache_seconds": 30,
                                                 "base_url": "http://papers.test"}), database)


@pytest.fixture
def member(app):
    with TestClient(app) as client:
        sign_up(client, "reader")
        yield client


def _outsider(app) -> TestClient:
    """Another browser or a feed reader: no cookie. Not entered as a context: the app's lifespan
    (schedulers, the MCP session manager) runs once per app, under the member's client."""
    return TestClient(app)


def _csrf(client: TestClient, page: str = "/account") -> str:
    return csrf_from(client.get(page).text)


def test_save_collect_read_and_note_in_place_and_as_plain_forms(member, db):
    paper = make_paper(db, title="A paper worth keeping")
    token = _csrf(member, f"/papers/{paper.key}")
    # A card's save box, in place.
    box = member.post(f"/papers/{paper.key}/save", data={"csrf_token": token}, headers=INPLACE)
    assert box.status_code == 200 and box.headers["cache-control"] == "no-store"
    assert 'aria-pressed="true"' in box.text and f"/papers/{paper.key}/unsave" in box.text
    assert "Saved to your library." in box.headers["x-inplace-status"].replace("%20", " ")
    # The paper page's panel: a new collection, a read mark and a note, each answered in place.
    panel = member.post(f"/papers/{paper.key}/save", headers=INPLACE, data={
        "csrf_token": token, "panel": "1", "new_collection": "Reading group"})
    assert 'class="library-panel saved"' in panel.text
    assert re.search(r'aria-pressed="true"[^>]*title="Remove from Reading group"', panel.text)
    panel = member.post(f"/papers/{paper.key}/read", data={"csrf_token": token, "panel": "1"},
                        headers=INPLACE)
    assert "✓</span> <span class=\"read-label\">Read" in panel.text
    # Without scripting: a 303 back to the page the form was on.
    plain = member.post(f"/papers/{paper.key}/note", data={"csrf_token": token, "note": "See §3"},
                        headers={"referer": f"http://testserver/papers/{paper.key}"},
                        follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith(f"/papers/{paper.key}")
    page = member.get(f"/papers/{paper.key}").text
    assert ">See §3</textarea>" in page and 'class="library-panel saved"' in page
    library = member.get("/library")
    assert library.headers["cache-control"] == "private, no-store"
    assert "A paper worth keeping" in library.text and "See §3" in library.text
    assert "Reading group" in library.text and "✓ Read" in library.text
    assert "A paper worth keeping" not in member.get("/library?unread=1").text
    # Saved shows on every card of the member's pages.
    assert "save-box saved" in member.get(f"/authors/{paper.author_names[0]}").text


def test_bad_library_input_is_a_clear_4xx_and_changes_nothing(member, db):
    paper = make_paper(db)
    token = _csrf(member)
    assert member.post("/papers/9999.99999/save", data={"csrf_token": token}, headers=INPLACE).status_code == 404
    assert member.post(f"/papers/{paper.key}/save", data={"csrf_token": token, "collection": "99999"},
                       headers=INPLACE).status_code == 404
    too_long = member.post(f"/papers/{paper.key}/note", data={"csrf_token": token, "note": "x" * 10_001},
                           headers=INPLACE)
    assert too_long.status_code == 400 and "at most" in too_long.text
    assert member.post(f"/papers/{paper.key}/save", data={}).status_code == 403  # no CSRF token
    assert member.post("/library/collections", data={"csrf_token": token, "name": "a",
                                                     "visibility": "everyone"}).status_code == 400
    assert "Nothing saved yet" in member.get("/library").text


def test_visitors_are_asked_to_log_in(app, db):
    paper = make_paper(db)
    with TestClient(app) as visitor:
        page = visitor.get(f"/papers/{paper.key}").text
        assert f'href="/login?next=/papers/{paper.key}&amp;why=library"' in page
        assert visitor.get("/library", follow_redirects=False).headers["location"].startswith("/login")
        assert "keep papers in your library" in visitor.get("/login?why=library").text


def test_private_shared_and_public_collections_and_their_exports(app, member, db):
    paper = make_paper(db, title="Shared reading")
    token = _csrf(member)
    made = member.post("/library/collections", data={"csrf_token": token, "name": "Diffusion"},
                       follow_redirects=False)
    path = made.headers["location"]
    cid = path.rsplit("/", 1)[1]
    member.post(f"/papers/{paper.key}/save", data={"csrf_token": token, "collection": cid})
    page = member.get(path).text
    assert "Shared reading" in page and f'href="/exports/library/collections/{cid}.bib"' in page
    bib = member.get(f"/exports/library/collections/{cid}.bib")
    assert bib.status_code == 200 and f"eprint = {{{paper.key}}}" in bib.text
    assert bib.headers["cache-control"] == "private, no-store"
    stranger = _outsider(app)
    assert stranger.get(path).status_code == 404
    assert stranger.get(f"/exports/library/collections/{cid}.ris").status_code == 404
    member.post(f"{path}/settings", data={"csrf_token": token, "name": "Diffusion",
                                          "visibility": "link"})
    link = re.search(r'href="(/c/[A-Za-z0-9_-]{32,})"', member.get(path).text).group(1)
    shared = stranger.get(link)
    assert shared.status_code == 200 and "Shared reading" in shared.text
    assert shared.headers["cache-control"] == "private, no-store"  # unsharing takes effect at once
    assert stranger.get(path).status_code == 404  # by link only, not listed
    assert "Diffusion" not in stranger.get("/collections").text
    csl = stranger.get(f"/exports{link}.json")
    assert csl.status_code == 200 and csl.json()[0]["title"] == "Shared reading"
    member.post(f"{path}/share-link", data={"csrf_token": token})
    assert stranger.get(link).status_code == 404  # the old link is cut off
    member.post(f"{path}/settings", data={"csrf_token": token, "name": "Diffusion",
                                          "visibility": "public"})
    assert "Diffusion" in stranger.get("/collections").text
    assert stranger.get(path).status_code == 200
    member.post(f"{path}/settings", data={"csrf_token": token, "name": "Diffusion",
                                          "visibility": "private"})
    assert stranger.get(path).status_code == 404


def test_follows_in_place_and_on_the_account_page(member, db):
    make_paper(db, authors=["Grace Hopper"], organization=("Lab", "The Lab"), title="Compilers")
    token = _csrf(member, "/authors/Grace Hopper")
    box = member.post("/follow", headers=INPLACE, data={
        "csrf_token": token, "kind": "author", "target": "Grace Hopper", "label": "Grace Hopper"})
    assert box.status_code == 200 and "✓ Following" in box.text and 'action="/unfollow"' in box.text
    assert "✓ Following" in member.get("/authors/Grace Hopper").text
    member.post("/follow", data={"csrf_token": token, "kind": "org", "target": "Lab"})
    assert "✓ Following" in member.get("/orgs/Lab").text
    assert "+ Follow" in member.get("/search?q=compilers").text
    member.post("/follow", data={"csrf_token": token, "kind": "search", "target": "q=compilers"})
    assert "✓ Following" in member.get("/search?q=compilers&sort=newest").text
    account = member.get("/account").text
    assert account.count("✓ Following") == 3
    assert member.post("/follow", headers=INPLACE, data={
        "csrf_token": token, "kind": "author", "target": "Nobody"}).status_code == 404
    assert member.post("/follow", headers=INPLACE, data={
        "csrf_token": token, "kind": "search", "target": "sort=newest"}).status_code == 400
    member.post("/unfollow", data={"csrf_token": token, "kind": "org", "target": "Lab"})
    assert member.get("/account").text.count("✓ Following") == 2


def test_the_private_feed_reads_in_feedparser_and_dies_with_its_token(app, member, db):
    make_paper(db, authors=["Grace Hopper"], title="Followed by author")
    make_paper(db, organization=("Lab", "The Lab"), title="Followed by organization")
    make_paper(db, title="Not followed at all", abstract="Gardening in spring.")
    kept = make_paper(db, title="Quantum error correction codes",
                      abstract="Surface codes correct qubit errors in quantum computers.")
    make_paper(db, title="Decoding surface codes for quantum error correction",
               abstract="A decoder for surface codes and qubit errors.")
    token = _csrf(member)
    member.post(f"/papers/{kept.key}/save", data={"csrf_token": token})
    member.post("/follow", data={"csrf_token": token, "kind": "author", "target": "Grace Hopper"})
    member.post("/follow", data={"csrf_token": token, "kind": "org", "target": "Lab"})
    account = member.post("/account/feed", data={"csrf_token": token}).text
    url = re.search(r'href="http://papers\.test(/feeds/me/[0-9a-f]{64}\.atom)"', account).group(1)
    reader = _outsider(app)  # a feed reader: no cookie
    answer = reader.get(url)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "private, no-store"
    feed = feedparser.parse(answer.content)
    assert not feed.bozo
    # Followed authors and organizations, and a paper like a saved one (not the saved one).
    assert sorted(e.title for e in feed.entries) == [
        "Decoding surface codes for quantum error correction", "Followed by author",
        "Followed by organization"]
    assert feedparser.parse(reader.get(url.replace(".atom", ".rss")).content).entries
    # Never cached (private, no-store), but a feed reader's conditional GET still gets 304.
    again = reader.get(url, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b"", again.status_code
    member.post("/account/feed", data={"csrf_token": token})  # a new address
    assert reader.get(url).status_code == 404
    account = member.get("/account").text
    url = re.search(r'href="http://papers\.test(/feeds/me/[0-9a-f]{64}\.atom)"', account).group(1)
    assert reader.get(url).status_code == 200
    member.post("/account/feed/revoke", data={"csrf_token": token})
    assert reader.get(url).status_code == 404
    assert "Make my feed address" in member.get("/account").text
    assert reader.get("/feeds/me/" + "0" * 64 + ".atom").status_code == 404


def test_import_reports_every_entry_and_refuses_a_bad_file(member, db):
    paper = make_paper(db, title="Found by id")
    token = _csrf(member, "/library/import")
    bib = (f"@misc{{one, title={{Anything}}, eprint={{{paper.key}}}, archivePrefix={{arXiv}}}}\n"
           "@misc{two, title={Not in this catalog}}\n").encode()
    report = member.post("/library/import", data={"csrf_token": token, "new_collection": "From Zotero"},
                         files={"file": ("refs.bib", bib, "application/x-bibtex")})
    assert report.status_code == 200 and report.headers["cache-control"] == "private, no-store"
    assert "2 entries" in report.text and "1 found" in report.text and "1 not found" in report.text
    assert "Not in this catalog" in report.text and "no paper in the catalog has this title" in report.text
    assert f'href="/papers/{paper.key}"' in report.text
    bad = member.post("/library/import", data={"csrf_token": token, "new_collection": "Never made"},
                      files={"file": ("refs.json", b"[{\"title\": ", "application/json")})
    assert bad.status_code == 400
    assert "refs.json: not valid JSON" in bad.text and "Nothing was imported." in bad.text
    library = member.get("/library").text
    assert "From Zotero" in library and "Never made" not in library
    assert member.post("/library/import", data={"csrf_token": token}).status_code == 400  # no file
