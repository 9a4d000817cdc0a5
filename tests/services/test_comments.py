from html.parser import HTMLParser

import pytest

from dailypapers.services import comments
from dailypapers.services.errors import Forbidden, Invalid, NotFound
from dailypapers.store import Paper, Role
from tests.factories import make_paper, make_user


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<img src=x onerror="alert(1)">',
    "<a href='https://e.org' onclick='alert(1)'>x</a>",
    "<svg/onload=alert(1)>",
    "![x](javascript:alert(1))",
])
def test_markdown_is_sanitized(body):
    parser = Elements()
    parser.feed(comments.render_markdown(body))
    for tag, attrs in parser.tags:
        assert tag in comments.ALLOWED_TAGS
        assert not any(name.startswith("on") for name in attrs)
        assert not (attrs.get("href") or "").lower().startswith("javascript")


def test_markdown_keeps_formatting_and_marks_links_ugc():
    html = comments.render_markdown("**bold** and [a link](https://example.org)\n\n- item")
    assert "<strong>bold</strong>" in html and "<li>item</li>" in html
    assert 'href="https://example.org"' in html and "nofollow" in html


def test_counts_replies_one_level_edit_and_delete(db):
    paper = make_paper(db)
    ada, bob = make_user(db), make_user(db)
    top = comments.add_comment(db=db, user_id=ada.id, paper_key=paper.key, body="first")
    reply = comments.add_comment(db=db, user_id=bob.id, paper_key=paper.key, body="re", parent_id=top.id)
    deeper = comments.add_comment(db=db, user_id=ada.id, paper_key=paper.key, body="re re",
                                  parent_id=reply.id)
    assert reply.parent_id == top.id and deeper.parent_id == top.id  # one level deep
    db.expire_all()
    assert db.get(Paper, paper.id).num_comments == 3
    with pytest.raises(Forbidden):
        comments.edit_comment(db=db, user=bob, comment_id=top.id, body="hijack")
    with pytest.raises(Forbidden):
        comments.delete_comment(db=db, user=bob, comment_id=top.id)
    edited = comments.edit_comment(db=db, user=ada, comment_id=top.id, body="*first!*")
    assert edited.body_html.strip() == "<p><em>first!</em></p>" and edited.edited_at
    comments.delete_comment(db=db, user=ada, comment_id=top.id)
    db.expire_all()
    assert db.get(Paper, paper.id).num_comments == 2
    threads = comments.threads_for(db=db, paper_id=paper.id)
    assert len(threads) == 1 and threads[0].comment.deleted_at and len(threads[0].replies) == 2
    with pytest.raises(NotFound):
        comments.delete_comment(db=db, user=ada, comment_id=top.id)


def test_moderators_delete_any_comment_but_do_not_edit(db):
    paper = make_paper(db)
    author, admin = make_user(db), make_user(db, role=Role.ADMIN)
    c = comments.add_comment(db=db, user_id=author.id, paper_key=paper.key, body="spam")
    with pytest.raises(Forbidden):
        comments.edit_comment(db=db, user=admin, comment_id=c.id, body="x")
    assert comments.delete_comment(db=db, user=admin, comment_id=c.id).deleted_at is not None
    db.expire_all()
    assert db.get(Paper, paper.id).num_comments == 0
    assert comments.threads_for(db=db, paper_id=paper.id) == []


def test_empty_comment_is_refused(db):
    paper = make_paper(db)
    with pytest.raises(Invalid):
        comments.add_comment(db=db, user_id=make_user(db).id, paper_key=paper.key, body="   ")
