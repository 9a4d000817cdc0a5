"""Issue acceptance on the real data: known papers are found, ids pin, similar papers make sense."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from dailypapers.services.search import SearchError, SearchFilters, SearchRequest, search_papers, similar_papers
from dailypapers.store import Embedding, Paper
import itertools

GATED = "Gated Attention for Large Language Models: Non-linearity, Sparsity, and Attention-Sink-Free"
LASP2 = "LASP-2: Rethinking Sequence Parallelism for Linear Attention and Its Hybrid"


def _search(catalog, **kw):
    with catalog.database.session() as db:
        return search_papers(db=db, engine=catalog.engine, request=SearchRequest(**kw))


def _titles(catalog, **kw):
    return [hit.card.title for hit in _search(catalog, **kw).hits]


def test_the_seed_papers_carry_bundled_vectors(catalog):
    _search(catalog, q="attention")
    with catalog.database.session() as db:  # adopted from the package, not computed
        assert db.scalar(select(func.count()).select_from(Embedding)) >= 180
    assert catalog.engine.has_vectors


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
@pytest.mark.parametrize(("query", "expected"), [
    ("sigmoid gate after attention output", GATED),
    ("sequence parallelism for linear attention", LASP2),
    ("gated attention sink", GATED),
])
def test_known_papers_are_in_the_top_five(catalog, query, expected, mode):
    assert expected in _titles(catalog, q=query, mode=mode, per_page=5)


@pytest.mark.parametrize("query", ["2312.17276", "2312.17276v2", "https://arxiv.org/abs/2312.17276",
                                   "arXiv:2312.17276", "https://huggingface.co/papers/2312.17276"])
def test_an_arxiv_id_or_url_pins_that_paper_first(catalog, query):
    page = _search(catalog, q=query)
    assert page.hits[0].card.arxiv_id == "2312.17276"
    assert page.hits[0].pinned


def test_an_unknown_id_says_so(catalog):
    page = _search(catalog, q="2912.99999")
    assert page.hits == [] and "2912.99999" in (page.notice or "")


def test_an_exact_title_is_pinned_first_even_among_many_matches(catalog):
    page = _search(catalog, q="Dynamic Linear Attention")
    assert page.hits[0].card.title == "Dynamic Linear Attention" and page.hits[0].pinned


def test_highlights_are_escaped_html_with_marks(catalog):
    hit = _search(catalog, q="<script>alert(1)</script> sparse attention")
    top = hit.hits[0]
    assert "<script>" not in top.highlighted_title + top.highlighted_summary + top.snippet
    assert "<mark>" in top.highlighted_title + top.highlighted_summary


def test_filters_restrict_results(catalog):
    org = _search(catalog, q="language model", filters=SearchFilters(organization="qwen"), per_page=50)
    assert org.hits and all(h.card.organization.handle.lower() == "qwen" for h in org.hits)
    coded = _search(catalog, q="diffusion", filters=SearchFilters(has_code=True, min_upvotes=20), per_page=50)
    assert coded.hits and all(h.card.github_repo and h.card.upvotes >= 20 for h in coded.hits)
    window = SearchFilters(published_from=dt.date(2025, 1, 1), published_to=dt.date(2025, 1, 31))
    dated = _search(catalog, q="reasoning", filters=window, per_page=50)
    assert dated.hits and all(dt.date(2025, 1, 1) <= h.card.published_at.date() <= dt.date(2025, 1, 31)
                              for h in dated.hits)
    featured = SearchFilters(featured_from=dt.date(2024, 3, 1), featured_to=dt.date(2024, 3, 7))
    days = _search(catalog, q="", filters=featured, per_page=100)
    assert days.total == len(days.hits) > 0
    assert all(dt.date(2024, 3, 1) <= h.card.featured_on <= dt.date(2024, 3, 7) for h in days.hits)


def test_sorts_reorder_the_relevant_papers(catalog):
    by_votes = [h.card.upvotes for h in _search(catalog, q="video generation", sort="upvotes", per_page=30).hits]
    assert by_votes == sorted(by_votes, reverse=True)
    newest = [h.card.published_at for h in _search(catalog, q="video generation", sort="newest", per_page=30).hits]
    assert all(a >= b for a, b in itertools.pairwise(newest) if a and b)
    trending = _search(catalog, q="video generation", sort="trending", per_page=10)
    assert len(trending.hits) == 10


def test_pages_do_not_overlap(catalog):
    first = _search(catalog, q="agents", per_page=10, page=1)
    second = _search(catalog, q="agents", per_page=10, page=2)
    assert first.total == second.total > 20 and first.has_next
    assert not {h.card.id for h in first.hits} & {h.card.id for h in second.hits}


def test_an_empty_query_lists_papers_newest_first(catalog):
    page = _search(catalog, q="", per_page=5)
    assert page.total == 11_196
    published = [h.card.published_at for h in page.hits]
    assert published == sorted(published, reverse=True)


def test_invalid_requests_are_refused_with_a_message(catalog):
    with pytest.raises(SearchError, match="ends before it starts"):
        _search(catalog, q="x", filters=SearchFilters(published_from=dt.date(2025, 2, 1),
                                                      published_to=dt.date(2025, 1, 1)))
    with pytest.raises(SearchError, match="per_page"):
        _search(catalog, q="x", per_page=0)


# Titles in the catalog that are about gating or attention (labelled by hand, reading each one).
ABOUT_GATING_OR_ATTENTION = {
    "Gated Linear Attention Transformers with Hardware-Efficient Training",
    "Statistical Perspective of Top-K Sparse Softmax Gating Mixture of Experts",
    "Softpick: No Attention Sink, No Massive Activations with Rectified Softmax",
    "SeerAttention: Learning Intrinsic Sparse Attention in Your LLMs",
    "Attention Sinks Are Provably Necessary in Softmax Transformers: Evidence from Trigger-Conditional Tasks",
    "Gated Slot Attention for Efficient Linear-Time Sequence Modeling",
    "The Hedgehog & the Porcupine: Expressive Linear Attentions with Softmax Mimicry",
    "Linear Attention Architectures: Mechanisms, Trade-offs, and Cross-Layer Routing",
    "Forgetting Transformer: Softmax Attention with a Forget Gate",
    "Knocking-Heads Attention",
    "MoH: Multi-Head Attention as Mixture-of-Head Attention",
    "Dynamic Linear Attention",
    "A Systematic Analysis of Hybrid Linear Attention",
    "Higher-order Linear Attention",
    "ViG: Linear-complexity Visual Sequence Learning with Gated Linear Attention",
    LASP2,
}


def test_similar_papers_of_the_gated_attention_seed_are_about_gating_or_attention(catalog):
    with catalog.database.session() as db:
        paper_id = db.scalar(select(Paper.id).where(Paper.title == GATED))
        similar = similar_papers(db=db, engine=catalog.engine, paper_id=paper_id, limit=8)
    titles = [card.title for card in similar]
    assert len(titles) == 8 and GATED not in titles
    relevant = [t for t in titles if t in ABOUT_GATING_OR_ATTENTION]
    assert len(relevant) >= 6, titles
