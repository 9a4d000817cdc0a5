"""hf.co's addresses, log-in prompts that say why, the account page, search that explains itself,
honest comment counts and the bundled-sample notice (TestClient over a real database)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.services import pending_submissions, subscriptions, votes
from dailypapers.services.comments import add_comment
from dailypapers.services.sample import load_sample_if_empty
from dailypapers.store import Subscription
from dailypapers.store.base import utcnow
from dailypapers.web.app import create_app
from tests.community.helpers import PASSWORD, console_mail_link, csrf_from, log_in, post_form
from tests.factories import make_paper, make_subscription, make_user


@pytest.fixture
def client(settings, database):
    app = create_app(settings.model_copy(update={"page_cache_seconds": 0,
                                                 "submission_retry_seconds": 0}), database)
    with TestClient(app) as client:
        yield client


def test_hf_addresses_answer_as_on_hf(client, db):
    make_paper(db, featured_on=dt.date(2025, 11, 20))
    make_paper(db, featured_on=dt.date(2025, 11, 21))
    assert client.get("/papers", follow_redirects=False).headers["location"] == "/papers/date/2025-11-21"
    assert client.get("/papers/", follow_redirects=False).status_code == 307
    for query, target in (("date=2025-11-20", "/papers/date/2025-11-20"),
                          ("week=2025-W47", "/papers/week/2025-W47"),
                          ("month=2025-11", "/papers/month/2025-11"),
                          ("q=sparse+attention", "/search?q=sparse+attention")):
        answer = client.get(f"/papers?{query}", follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (307, target)
    assert client.get("/papers?date=2025-11-20").status_code == 200
    bad = client.get("/papers?date=20-11-2025")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    # The query stays in the header's search box on the results page.
    assert re.search(r'id="site-search"[^>]*value="sparse attention"', client.get("/papers?q=sparse+attention").text)


def test_log_in_prompts_say_why_and_sign_up_keeps_next(client, db, capsys):
    to_submit = client.get("/submit", follow_redirects=False)
    assert to_submit.headers["location"] == "/login?next=/submit&why=submit"
    page = client.get(to_submit.headers["location"]).text
    assert "Log in or sign up to submit a paper" in page
    assert 'href="/signup?next=/submit&amp;why=submit"' in page
    signup = client.get("/signup?next=/submit&why=submit").text
    assert 'name="next" value="/submit"' in signup and "to submit a paper" in signup
    asked = client.post("/signup", data={"username": "newbie", "email": "newbie@example.org",
                                         "next": "/submit", "csrf_token": csrf_from(signup)},
                        follow_redirects=False)
    assert asked.status_code == 200 and "Check your mail" in asked.text
    # The mailed link (printed by the console mailer here) carries next= to the end.
    link = console_mail_link(capsys.readouterr().err, "/signup/finish/")
    made = post_form(client, link, link, {"username": "newbie", "password": PASSWORD})
    assert made.headers["location"] == "/submit"
    assert client.get("/login?why=nonsense").status_code == 200  # unknown reasons say nothing


def test_account_page_lists_my_activity_and_digest(client, db, settings):
    user = make_user(db, username="reader", email="reader@example.org")
    liked = make_paper(db, title="A paper I liked", featured_on=dt.date(2025, 1, 2))
    votes.upvote(db=db, user_id=user.id, paper_key=liked.key)
    add_comment(db=db, user_id=user.id, paper_key=liked.key, body="My *thoughts* on it")
    db.commit()  # the test's own writes: keep() is a use case and refuses to commit them for us
    pending_submissions.keep(db=db, user=user, arxiv_id="2401.09999", organization_id=None,
                             day=dt.date(2025, 1, 3), reason="arXiv is not answering right now.")
    log_in(client, "reader")
    page = client.get("/account").text
    assert "A paper I liked" in page and "My thoughts on it" not in page and "My *thoughts* on it" in page
    assert "waiting for arXiv" in page and "2401.09999" in page
    assert 'href="/subscribe"' in page and "Get trending papers in your email inbox!" in page
    sub = make_subscription(db, email="reader@example.org", user_id=user.id, timezone="Europe/Paris")
    page = client.get("/account").text
    assert "Change digest settings" in page and "Europe/Paris" in page
    assert "Get trending papers in your email inbox!" not in page  # the banner hides for subscribers
    manage = re.search(r'href="(/subscriptions/manage\?token=[^"]+)"', page)
    assert manage is not None
    prefs = client.get(manage.group(1).replace("&amp;", "&")).text
    assert '<select id="timezone" name="timezone" required>' in prefs
    assert '<option value="Europe/Paris" selected>Europe/Paris</option>' in prefs
    assert subscriptions.digest_status_of_user(db=db, user_id=user.id) == "active"
    db.delete(db.get(Subscription, sub.id))
    db.commit()


def test_search_explains_filters_and_coverage(client, db):
    make_paper(db, title="Sparse attention for long documents", featured_on=dt.date(2025, 1, 2),
               organization=("SakanaAI", "Sakana AI"))
    page = client.get("/search?q=sparse+attention&org=nobody-here&has_code=true").text
    assert "with these filters: organization nobody-here, with code." in page
    assert 'href="/search?q=sparse+attention">Clear filters</a>' in page
    assert '<option value="SakanaAI">Sakana AI</option>' in page
    assert "meaning covers 0 of them (0%)" in page and "Keywords search all 1 paper;" in page
    found = client.get("/search?q=sparse+attention&org=SakanaAI").text
    assert "Filtered: organization SakanaAI" in found and "for long documents" in found


def test_comment_counts_written_here_apart_from_the_source(client, db):
    paper = make_paper(db, num_comments=12)
    user = make_user(db)
    add_comment(db=db, user_id=user.id, paper_key=paper.key, body="Here")
    db.commit()  # the comment route's transaction (services commit nothing)
    page = client.get(f"/papers/{paper.key}").text
    assert re.search(r"Comments <span class=\"muted\">\(<span [^>]*>1</span>\)", page)
    assert "12 comments on the source site" in page


def test_the_bundled_sample_says_it_is_one(client, db):
    load_sample_if_empty(db=db)
    day = client.get("/", follow_redirects=True).text
    assert "You are looking at the bundled sample" in day and "dailypapers import hf-json" in day
    assert "dailypapers sync hf" in day
    assert "You are looking at the bundled sample" in client.get("/papers/trending").text
    make_paper(db, featured_on=dt.date(2025, 12, 10))  # the first real paper
    assert "bundled sample" not in client.get("/papers/trending").text
    assert utcnow()  # (the clock is the store's)


def test_paper_page_links_its_abstract_and_has_open_graph_tags(client, db):
    paper = make_paper(db, title="Gated $\\alpha$ attention",
                       abstract="Code at https://github.com/qiuzh20/gated_attention{codes}. <b>bold</b>",
                       organization=("SakanaAI", "Sakana AI"))
    page = client.get(f"/papers/{paper.key}").text
    assert ('<a href="https://github.com/qiuzh20/gated_attention" rel="nofollow noopener ugc">'
            'https://github.com/qiuzh20/gated_attention</a>{codes}.') in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # still escaped
    assert '<meta property="og:title" content="Gated α attention">' in page
    assert f'<meta property="og:url" content="http://127.0.0.1:8000/papers/{paper.key}">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    org_line = re.search(r'<p class="paper-org">(.*?)</p>', page, re.S).group(1)
    assert org_line.count("Sakana AI") == 1 and 'class="org-handle visually-hidden"' in org_line


def test_cards_and_paper_pages_carry_hf_signals(client, db, settings):
    from dailypapers.store import DailyEntry, Organization, Paper

    paper = make_paper(db, title="Signals paper", featured_on=dt.date(2025, 1, 2), upvotes=3,
                       organization=("SakanaAI", "A very long organization name that goes on and on"),
                       authors=[f"Author {i}" for i in range(25)])
    row = db.get(Paper, paper.id)
    row.github_stars, row.ai_summary, row.ai_summary_model = 1234, "It gates attention.", "qwen-2.5"
    row.ai_keywords, row.thumbnail = ["gating", "attention sink"], "https://cdn.example/thumb.png"
    entry = db.scalars(select(DailyEntry).where(DailyEntry.paper_id == paper.id)).one()
    entry.submitted_by, entry.submitter_fullname = "ak", "AK"
    entry.submitter_avatar_url = "https://cdn.example/ak.png"
    db.get(Organization, entry.organization_id).avatar_url = "https://cdn.example/sakana.png"
    db.commit()
    day = client.get("/papers/date/2025-01-02")
    card = re.search(r'<article class="card".*?</article>', day.text, re.S).group(0)
    assert "★" in card and "1.2k" in card and "Submitted by AK" in card
    assert "A very long organization name that goes on and on" in card
    assert "comment-count" not in card  # no "0" chip
    assert "https://cdn.example" not in day.text  # remote images are off by default
    assert "img-src 'self' data:;" in day.headers["content-security-policy"]
    page = client.get(f"/papers/{paper.key}").text
    assert "AI-generated summary" in page and "It gates attention." in page and "<code>qwen-2.5</code>" in page
    assert 'href="/search?q=attention%20sink">attention sink</a>' in page
    # An operator who allows remote images gets avatars and thumbnails, and a CSP that allows them.
    remote = TestClient(create_app(settings.model_copy(update={"page_cache_seconds": 0, "remote_images": True,
                                                               "submission_retry_seconds": 0})))
    shown = remote.get("/papers/date/2025-01-02")
    assert 'src="https://cdn.example/sakana.png"' in shown.text and 'src="https://cdn.example/thumb.png"' in shown.text
    assert "img-src 'self' data: https:" in shown.headers["content-security-policy"]


def test_author_names_on_cards_and_the_paper_page_link_to_author_pages(client, db):
    paper = make_paper(db, title="Many hands", featured_on=dt.date(2025, 1, 2),
                       authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Kurt Gödel", "Emmy Noether"])
    day = client.get("/papers/date/2025-01-02").text
    card = re.search(r'<article class="card".*?</article>', day, re.S).group(0)
    assert '<a href="/authors/Ada%20Lovelace">Ada Lovelace</a>' in card
    assert '<a href="/authors/Grace%20Hopper">Grace Hopper</a>' in card
    assert "Kurt" not in card and f'href="/papers/{paper.key}#authors">+2 more</a>' in card
    page = client.get(f"/papers/{paper.key}").text
    assert '<a href="/authors/Kurt%20G%C3%B6del">Kurt Gödel</a>' in page and 'id="authors"' in page
    hits = client.get("/search?q=Many+hands").text
    assert '<a href="/authors/Alan%20Turing">Alan Turing</a>' in hits
    author = client.get("/authors/Kurt%20G%C3%B6del")
    assert author.status_code == 200 and "Many hands" in author.text


def test_organization_admin_pages_use_the_site_design(client, db):
    from dailypapers.services import orgs_admin
    from dailypapers.store.memberships import ORG_MEMBER

    admin, other = make_user(db, username="orgadmin"), make_user(db)
    orgs_admin.create_org(db=db, user=admin, handle="lab", name="The Lab")
    orgs_admin.add_member(db=db, actor=admin, handle="lab", username=other.username, role=ORG_MEMBER)
    orgs_admin.create_org(db=db, user=other, handle="guild", name="The Guild")
    orgs_admin.invite(db=db, actor=other, handle="guild", invitee="orgadmin", role=ORG_MEMBER)
    db.commit()
    log_in(client, "orgadmin")
    for path in ("/orgs/new", "/orgs/lab/members", "/invitations"):
        main = client.get(path).text.split("<main", 1)[1].split("</main>", 1)[0]
        assert re.search(r'<h1[^>]*class="(form-title|page-title)"', main), path
        buttons = re.findall(r"<button[^>]*>", main)
        assert buttons and all('class="btn' in b for b in buttons), (path, buttons)
        fields = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*>', main)
        for field in fields:  # every control has a label bound by id, in a styled form
            ident = re.search(r'id="([^"]+)"', field)
            assert ident and f'<label for="{ident.group(1)}"' in main, (path, field)
        assert all('class="form"' in f or 'class="inline' in f for f in re.findall(r"<form[^>]*>", main)), path
    members = client.get("/orgs/lab/members").text
    assert 'class="panel"' in members and "btn-danger" in members and "2 members" in members


def test_pasted_hf_addresses_with_a_trailing_slash_lead_to_the_page(client, db):
    paper = make_paper(db, featured_on=dt.date(2025, 11, 20))
    for pasted, target in ((f"/papers/{paper.key}/", f"/papers/{paper.key}"),
                           ("/papers/trending/", "/papers/trending"),
                           ("/papers/date/2025-11-20/", "/papers/date/2025-11-20"),
                           ("/papers/date/2025-11-20/?sort=trending", "/papers/date/2025-11-20?sort=trending"),
                           ("/papers//evil.example/", "/papers/evil.example")):
        answer = client.get(pasted, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (301, target), pasted
    assert client.get("/papers/date/2025-11-20/").status_code == 200


def test_search_results_carry_the_card_signals_without_a_stray_bullet(client, db):
    make_paper(db, title="Bulleted attention", featured_on=dt.date(2025, 1, 2),
               authors=[f"Writer {i}" for i in range(25)])
    make_paper(db, title="Badged attention", featured_on=dt.date(2025, 1, 3),
               organization=("SakanaAI", "Sakana AI"))
    page = client.get("/search?q=attention").text
    assert '<span class="authors">25 authors</span>' in page and "•" not in page
    assert '<span class="org-avatar" aria-hidden="true">S</span>' in page
    assert '<a href="/authors/Writer%200">Writer 0</a>' in page
