"""Honest result counts (issue 15): a result contains the query's words or is close in meaning.

On the acceptance catalog (11,196 papers; vectors for the 183 seed papers, shipped with the
sample), with the bundled model embedding the queries.
"""

from __future__ import annotations

import numpy as np
import pytest

from dailypapers.search.query import parse_query
from dailypapers.services.search import NOTHING_MATCHES, SearchRequest, search_papers


def _search(catalog, **kw):
    with catalog.database.session() as db:
        return search_papers(db=db, engine=catalog.engine, request=SearchRequest(**kw))


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
@pytest.mark.parametrize("query", ["xkqzv wplmf", "qwertyuiop", "blorf snargle wimbly", "🙂🙃 🎉"])
def test_a_gibberish_query_finds_nothing_and_says_so(catalog, query, mode):
    page = _search(catalog, q=query, mode=mode)
    assert page.hits == [] and page.total == 0
    assert page.notice == NOTHING_MATCHES


def test_an_off_topic_query_finds_nothing_by_meaning(catalog):
    page = _search(catalog, q="best chocolate cake recipe", mode="semantic")
    assert page.total == 0 and page.notice == NOTHING_MATCHES


def test_every_result_has_a_query_word_or_is_close_in_meaning(catalog):
    query = "sigmoid gate after attention output"
    page = _search(catalog, q=query, per_page=100)
    engine = catalog.engine
    floor = engine.settings.search_semantic_floor
    with catalog.database.session() as db:
        dense = engine.prepare(db)
        words = {pid for pid, _ in engine.keyword.search(parse_query(query), limit=100_000)}
        vector = engine.embed_query(query)
        assert vector is not None
        vectors = dense.vectors_of([hit.card.id for hit in page.hits])
    close = {pid for pid, v in vectors.items() if float(np.dot(v, vector)) >= floor}
    assert page.hits and all(hit.card.id in words | close for hit in page.hits)
    assert close, "some seed paper is close in meaning"
    # Meaning alone: only the close ones, so the count is theirs, not the 200 nearest.
    semantic = _search(catalog, q=query, mode="semantic", per_page=100)
    assert 0 < semantic.total < 183 and semantic.notice is None


def test_an_arxiv_id_and_an_exact_title_still_pin_among_no_other_match(catalog):
    assert [h.card.arxiv_id for h in _search(catalog, q="2312.17276").hits] == ["2312.17276"]
    page = _search(catalog, q="Dynamic Linear Attention", mode="semantic")
    assert page.hits[0].card.title == "Dynamic Linear Attention" and page.hits[0].pinned
