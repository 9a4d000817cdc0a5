"""A member's digest has a "From people and labs you follow" section: every paper new since the
last digest from the authors, organizations and saved searches they follow, whatever trending or
For you rank; no section when nothing is new. Real SMTP (aiosmtpd), through the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dailypapers.services import follows
from dailypapers.settings import Settings
from tests.digests.helpers import DAY, featured_papers, run
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_paper, make_subscription, make_user

TITLE = "From people and labs you follow"


def _text(smtp_sink: SmtpSink, to: str) -> str:
    mail = next(m.message for m in smtp_sink.messages if m.to == to)
    return mail.get_body(("plain",)).get_content()


def test_the_digest_lists_what_members_follow_and_nothing_when_nothing_is_new(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    loud = featured_papers(db, [90, 80, 70], title="Loud paper")
    # Quiet papers trending would never show (num_papers=2 and they have no upvotes).
    by_author = make_paper(db, title="Grace's quiet paper", authors=["Grace Hopper"], upvotes=0)
    by_org = make_paper(db, title="The Lab's quiet paper", organization=("lab", "The Lab"), upvotes=0)
    by_search = make_paper(db, title="Incremental compilers", abstract="Compilers that reuse work.",
                           authors=["Kim Ode"], upvotes=0)
    old = make_paper(db, title="Grace's old paper", authors=["Grace Hopper", "Ole Timer"],
                     featured_on=None, published_at=dt.datetime(2024, 6, 1), upvotes=0)
    ada, bob = make_user(db, username="ada"), make_user(db, username="bob")
    follows.follow(db=db, user_id=ada.id, kind="author", target="Grace Hopper")
    follows.follow(db=db, user_id=ada.id, kind="org", target="lab")
    follows.follow(db=db, user_id=ada.id, kind="search", target="q=compilers")
    follows.follow(db=db, user_id=bob.id, kind="author", target="Ole Timer")
    db.commit()
    make_subscription(db, email="ada@example.org", user_id=ada.id, num_papers=2)
    make_subscription(db, email="bob@example.org", user_id=bob.id, num_papers=2)
    assert run(db, settings).sent == 2
    text = _text(smtp_sink, "ada@example.org")
    section = text[text.index(TITLE.upper()):text.index("TRENDING")]
    assert by_author.title in section and "New from Grace Hopper, whom you follow" in section
    assert by_org.title in section and "New from The Lab, which you follow" in section
    assert by_search.title in section and "Matches your search “compilers”" in section
    assert old.title not in text  # published long before the period: not new
    assert loud[0].title in text[text.index("TRENDING"):]
    html = next(m.message for m in smtp_sink.messages if m.to == "ada@example.org").get_body(("html",))
    assert TITLE in html.get_content() and "Matches your search “compilers”" in html.get_content()
    # Bob follows an author with nothing new: his digest has no such section at all.
    bob_text = _text(smtp_sink, "bob@example.org")
    assert TITLE.upper() not in bob_text and old.title not in bob_text
    assert bob_text.startswith(f"Daily Papers · Trending papers · {DAY:%a, %b %-d, %Y}")
