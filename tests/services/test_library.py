"""The library service: save to collections, unsave, read marks, notes, visibility, follows and
feed tokens, on the test's real database (SQLite or PostgreSQL)."""

import pytest
from sqlalchemy import func, select

from dailypapers.services import collections, feed_tokens, follows, library
from dailypapers.services.errors import Conflict, Invalid, NotFound
from dailypapers.store import CollectionItem, PaperState
from tests.factories import make_paper, make_user


def test_save_goes_to_saved_once_and_the_library_is_newest_first(db):
    ada = make_user(db)
    first, second = make_paper(db), make_paper(db)
    mark = library.save_paper(db=db, user_id=ada.id, paper_key=first.key)
    assert mark.saved and len(mark.collection_ids) == 1
    library.save_paper(db=db, user_id=ada.id, paper_key=first.key)  # again: nothing changes
    library.save_paper(db=db, user_id=ada.id, paper_key=f"arXiv:{second.key}v2")
    assert db.scalar(select(func.count()).select_from(CollectionItem)) == 2
    assert library.saved_paper_ids(db=db, user_id=ada.id) == [second.id, first.id]
    (saved,) = collections.collections_of(db=db, user_id=ada.id)
    assert (saved.name, saved.is_default, saved.count, saved.visibility) == ("Saved", True, 2, "private")
    assert library.saved_paper_ids(db=db, user_id=make_user(db).id) == []


def test_a_paper_leaves_the_library_with_its_last_collection_and_keeps_its_note(db):
    ada = make_user(db)
    paper = make_paper(db)
    library.save_paper(db=db, user_id=ada.id, paper_key=paper.key)
    library.save_paper(db=db, user_id=ada.id, paper_key=paper.key, collection="Reading group")
    library.set_note(db=db, user_id=ada.id, paper_key=paper.key, note="  check table 3 \r\n")
    library.mark_read(db=db, user_id=ada.id, paper_key=paper.key)
    mark = library.unsave_paper(db=db, user_id=ada.id, paper_key=paper.key, collection="reading GROUP")
    assert mark.saved and len(mark.collection_ids) == 1
    mark = library.unsave_paper(db=db, user_id=ada.id, paper_key=paper.key, collection=None)
    assert (mark.saved, mark.read, mark.note, mark.collection_ids) == (False, True, "check table 3", ())
    assert library.saved_paper_ids(db=db, user_id=ada.id) == []
    assert library.saved_among(db=db, user_id=ada.id, paper_ids=[paper.id]) == set()
    assert db.scalar(select(func.count()).select_from(PaperState)) == 1


def test_collections_belong_to_their_member(db):
    ada, bob = make_user(db), make_user(db)
    paper = make_paper(db)
    cid = collections.create_collection(db=db, user_id=ada.id, name="Diffusion")
    with pytest.raises(Conflict):
        collections.create_collection(db=db, user_id=ada.id, name=" diffusion ")
    with pytest.raises(NotFound):
        library.save_paper(db=db, user_id=bob.id, paper_key=paper.key, collection=cid)
    with pytest.raises(NotFound):
        collections.collection_view(db=db, collection_id=cid, viewer_id=bob.id)
    with pytest.raises(Invalid):
        collections.create_collection(db=db, user_id=ada.id, name="   ")
    with pytest.raises(NotFound):
        library.save_paper(db=db, user_id=ada.id, paper_key="9999.99999")
    with pytest.raises(Invalid):
        library.set_note(db=db, user_id=ada.id, paper_key=paper.key, note="x" * 10_001)


def test_sharing_by_link_public_and_private_again(db):
    ada, bob = make_user(db), make_user(db)
    paper = make_paper(db)
    cid = collections.create_collection(db=db, user_id=ada.id, name="Shared")
    library.save_paper(db=db, user_id=ada.id, paper_key=paper.key, collection=cid)
    library.set_note(db=db, user_id=ada.id, paper_key=paper.key, note="private thought")
    collections.set_visibility(db=db, user_id=ada.id, collection_id=cid, visibility="link")
    info = next(c for c in collections.collections_of(db=db, user_id=ada.id) if c.id == cid)
    assert info.share_token and len(info.share_token) >= 32
    shared = collections.shared_collection(db=db, token=info.share_token, viewer_id=bob.id)
    assert [c.id for c in shared.cards] == [paper.id]
    assert shared.entries[0].note == ""  # notes stay private on a shared collection
    assert collections.public_collections(db=db) == []
    collections.new_share_link(db=db, user_id=ada.id, collection_id=cid)
    with pytest.raises(NotFound):
        collections.shared_collection(db=db, token=info.share_token, viewer_id=bob.id)
    collections.set_visibility(db=db, user_id=ada.id, collection_id=cid, visibility="public")
    assert [c.id for c in collections.public_collections(db=db)] == [cid]
    assert collections.collection_view(db=db, collection_id=cid, viewer_id=bob.id).cards
    collections.set_visibility(db=db, user_id=ada.id, collection_id=cid, visibility="private")
    with pytest.raises(NotFound):
        collections.collection_view(db=db, collection_id=cid, viewer_id=bob.id)
    own = collections.collection_view(db=db, collection_id=cid, viewer_id=ada.id)
    assert own.is_owner and own.entries[0].note == "private thought"


def test_deleting_a_collection_unsaves_papers_that_were_only_there(db):
    ada = make_user(db)
    only, both = make_paper(db), make_paper(db)
    cid = collections.create_collection(db=db, user_id=ada.id, name="Temp")
    library.save_paper(db=db, user_id=ada.id, paper_key=only.key, collection=cid)
    library.save_paper(db=db, user_id=ada.id, paper_key=both.key, collection=cid)
    library.save_paper(db=db, user_id=ada.id, paper_key=both.key)
    collections.delete_collection(db=db, user_id=ada.id, collection_id=cid)
    assert library.saved_paper_ids(db=db, user_id=ada.id) == [both.id]
    default = collections.collections_of(db=db, user_id=ada.id)[0]
    with pytest.raises(Invalid):
        collections.delete_collection(db=db, user_id=ada.id, collection_id=default.id)


def test_follows_of_lists_authors_orgs_and_searches_once(db):
    ada = make_user(db)
    make_paper(db, authors=["Grace Hopper"], organization=("Lab", "The Lab"))
    assert follows.follow(db=db, user_id=ada.id, kind="author", target="Grace Hopper")
    assert not follows.follow(db=db, user_id=ada.id, kind="author", target="Grace Hopper")
    follows.follow(db=db, user_id=ada.id, kind="org", target="Lab")
    follows.follow(db=db, user_id=ada.id, kind="search", target="q=sparse++attention&sort=newest&page=2")
    follows.follow(db=db, user_id=ada.id, kind="search", target="page=3&q=sparse attention&mode=hybrid")
    mine = follows.follows_of(db=db, user_id=ada.id)
    assert [a.name for a in mine.authors] == ["Grace Hopper"]
    assert [o.handle for o in mine.orgs] == ["Lab"]
    assert [s.query for s in mine.searches] == ["q=sparse+attention"]
    assert follows.is_following(db=db, user_id=ada.id, kind="search", target="q=sparse attention")
    follows.unfollow(db=db, user_id=ada.id, kind="org", target="Lab")
    assert follows.follows_of(db=db, user_id=ada.id).orgs == []
    with pytest.raises(NotFound):
        follows.follow(db=db, user_id=ada.id, kind="author", target="Nobody At All")
    with pytest.raises(Invalid):
        follows.follow(db=db, user_id=ada.id, kind="search", target="sort=newest")


def test_feed_tokens_are_shown_again_regenerated_and_revoked(db):
    ada = make_user(db)
    secret = "s" * 40
    assert feed_tokens.feed_token_of(db=db, user_id=ada.id, secret=secret) is None
    token = feed_tokens.regenerate_feed_token(db=db, user_id=ada.id, secret=secret)
    assert feed_tokens.feed_token_of(db=db, user_id=ada.id, secret=secret) == token
    assert feed_tokens.user_for_feed_token(db=db, token=token) == ada.id
    newer = feed_tokens.regenerate_feed_token(db=db, user_id=ada.id, secret=secret)
    assert newer != token and feed_tokens.user_for_feed_token(db=db, token=token) is None
    feed_tokens.revoke_feed_token(db=db, user_id=ada.id)
    assert feed_tokens.user_for_feed_token(db=db, token=newer) is None
    assert feed_tokens.user_for_feed_token(db=db, token="x" * 1000) is None
