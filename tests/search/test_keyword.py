"""The BM25 side, on a real database and a real tantivy directory."""

import datetime as dt

from sqlalchemy import update

from dailypapers.search.keyword import KeywordIndex
from dailypapers.search.query import parse_query
from dailypapers.store import Paper
from dailypapers.store.base import utcnow
from tests.factories import make_paper


def _ids(index, text, limit=10):
    return [pid for pid, _ in index.search(parse_query(text), limit=limit)]


def test_catch_up_indexes_papers_committed_after_the_index_was_built(db, settings):
    first = make_paper(db, title="Sparse mixture of experts routing", abstract="Routers pick experts.")
    index = KeywordIndex(settings.data_dir / "kw")
    assert index.catch_up(db) == 1
    assert _ids(index, "experts") == [first.id]
    later = make_paper(db, title="Zorbulax tokens for retrieval", abstract="A new word.")
    assert _ids(index, "zorbulax") == []  # not yet caught up...
    assert index.catch_up(db) >= 1  # ...the service calls this before every query
    assert _ids(index, "zorbulax") == [later.id]
    assert index.catch_up(db) == 0  # nothing new: a single indexed max() query


def test_an_edited_abstract_replaces_the_old_document(db, settings):
    paper = make_paper(db, title="A paper", abstract="About quokkas.")
    index = KeywordIndex(settings.data_dir / "kw")
    index.catch_up(db)
    db.execute(update(Paper).where(Paper.id == paper.id).values(abstract="About wombats.",
                                                                 modified_at=utcnow()))
    db.commit()
    index.catch_up(db)
    assert _ids(index, "wombats") == [paper.id]
    assert _ids(index, "quokkas") == []
    assert index.num_docs == 1


def test_title_matches_outrank_abstract_matches_and_authors_are_searchable(db, settings):
    in_title = make_paper(db, title="Gated attention", abstract="We study models.")
    in_abstract = make_paper(db, title="Another study", abstract="We study gated attention.")
    by_author = make_paper(db, title="Unrelated", abstract="Nothing.", authors=["Grace Hopper"])
    index = KeywordIndex(settings.data_dir / "kw", title_boost=2.0)
    index.catch_up(db)
    assert _ids(index, "gated attention") == [in_title.id, in_abstract.id]
    assert _ids(index, "hopper") == [by_author.id]


def test_phrases_are_required_and_exclusions_forbidden(db, settings):
    phrase = make_paper(db, title="Linear attention at scale", abstract="")
    apart = make_paper(db, title="Attention is not linear", abstract="")
    mamba = make_paper(db, title="Linear attention meets Mamba", abstract="")
    index = KeywordIndex(settings.data_dir / "kw")
    index.catch_up(db)
    assert set(_ids(index, '"linear attention"')) == {phrase.id, mamba.id}
    assert set(_ids(index, '"linear attention" -mamba')) == {phrase.id}
    assert set(_ids(index, "linear attention")) == {phrase.id, apart.id, mamba.id}


def test_rebuild_reads_everything_again_and_another_process_sees_it(db, settings):
    papers = [make_paper(db, title=f"Paper about topic{i}", abstract="") for i in range(5)]
    writer = KeywordIndex(settings.data_dir / "kw")
    assert writer.rebuild(db) == 5
    reader = KeywordIndex(settings.data_dir / "kw")  # as a second web worker would open it
    assert reader.watermark == writer.watermark
    assert _ids(reader, "topic3") == [papers[3].id]
    db.execute(update(Paper).where(Paper.id == papers[3].id).values(title="Renamed",
                                                                      modified_at=utcnow()))
    db.commit()
    writer.catch_up(db)
    assert _ids(reader, "topic3") == [papers[3].id]  # until it looks at the shared state again
    reader.refresh_reader()
    assert _ids(reader, "topic3") == []


def test_a_late_committing_change_within_the_margin_is_not_missed(db, settings):
    index = KeywordIndex(settings.data_dir / "kw")
    make_paper(db, title="First", abstract="")
    index.catch_up(db)
    # Stamped a moment *before* the watermark (its transaction began earlier) but committed now.
    late = make_paper(db, title="Latecomer quasar", abstract="")
    db.execute(update(Paper).where(Paper.id == late.id)
               .values(modified_at=index.watermark - dt.timedelta(seconds=1)))
    db.commit()
    make_paper(db, title="Newest", abstract="")
    index.catch_up(db)
    assert _ids(index, "quasar") == [late.id]


def test_more_like_this_prefers_papers_sharing_distinctive_terms(db, settings):
    base = make_paper(db, title="Sigmoid gating of attention heads",
                      abstract="A sigmoid gate after attention output improves stability.")
    close = make_paper(db, title="Gated attention heads", abstract="Gating attention output with sigmoid.")
    far = make_paper(db, title="Protein folding", abstract="Structures of proteins.")
    index = KeywordIndex(settings.data_dir / "kw")
    index.catch_up(db)
    ids = [pid for pid, _ in index.more_like_this(title=base.title, abstract=base.abstract, limit=5)]
    assert ids[:2] == [base.id, close.id]
    assert far.id not in ids


def test_a_query_does_not_wait_behind_another_writer(db, settings):
    paper = make_paper(db, title="Held back", abstract="Gravitational lensing.")
    index = KeywordIndex(settings.data_dir / "kw")
    other = KeywordIndex(settings.data_dir / "kw")  # e.g. `index rebuild` in another process
    held = other._writer()
    try:
        assert index.catch_up(db, wait=0.1) == 0  # gives up at once: searches what is indexed
        assert _ids(index, "lensing") == []
    finally:
        held.rollback()
        held.wait_merging_threads()
    assert index.catch_up(db, wait=0.1) == 1
    assert _ids(index, "lensing") == [paper.id]
