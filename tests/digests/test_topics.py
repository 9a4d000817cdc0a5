"""Topic sections: a subscriber's saved searches, answered by the site's hybrid search."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dailypapers.search.engine import SearchEngine
from dailypapers.services.search import SearchFilters, SearchRequest, search_papers
from dailypapers.services import topics
from dailypapers.services.imports import import_seeds
from dailypapers.services.sample import SAMPLE_YEAR, sample_paths
from dailypapers.settings import Settings
from dailypapers.store import DailyEntry, Paper
from tests.conftest import MODEL_CACHE
from tests.digests.helpers import featured_papers, run
from tests.digests.smtp_sink import SmtpSink
from tests.factories import make_subscription


def _sections(text: str) -> dict[str, list[str]]:
    """Section heading → paper keys, from the plain-text part."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith(("TRENDING", "TOPIC: ")):
            current = line
            out[current] = []
        elif m := re.search(r"/papers/([\w.\-]+)$", line.strip()):
            out[current].append(m.group(1))
    return out


def test_topics_get_their_own_sections_without_repeating_papers(
        db: Session, settings: Settings, smtp_sink: SmtpSink) -> None:
    hot = featured_papers(db, [90], title="Diffusion transformers at scale")
    quiet = featured_papers(db, [2, 1], title="Latent diffusion for molecules")
    other = featured_papers(db, [50], title="Sparse attention kernels")
    make_subscription(db, email="ada@example.org", num_papers=2,
                      topics=["diffusion", "attention", "quantum error correction"])
    assert run(db, settings).sent == 1
    msg = smtp_sink.messages[0].message
    sections = _sections(msg.get_body(("plain",)).get_content())
    # Trending takes the two best; the diffusion topic adds the diffusion papers not shown
    # above; "attention" has nothing new left; the unmatched topic gets no empty section.
    assert sections == {"TRENDING": [hot[0].key, other[0].key],
                        "TOPIC: diffusion": [quiet[0].key, quiet[1].key]}
    html = msg.get_body(("html",)).get_content()
    assert "Topic: diffusion" in html and "/topics/feed.atom?q=diffusion" in html
    assert "quantum" not in html


def test_topic_matches_are_the_hybrid_search_order_gated_by_the_words(
        db: Session, settings: Settings) -> None:
    """With embeddings on (the bundled sample vectors of the seed papers), a topic is the
    search service's hybrid ranking over the window, keeping the papers that match its words."""
    import_seeds(db=db, paths=sample_paths(), year=SAMPLE_YEAR)
    hybrid = settings.model_copy(update={"search_semantic": True,
                                         "search_model_cache_dir": MODEL_CACHE})
    engine = SearchEngine(hybrid)
    # Seed cards sit on their own (estimated) days: look at the week of the newest paper on
    # multimodal models.
    newest = db.scalar(select(func.max(DailyEntry.day)).select_from(DailyEntry)
                       .join(Paper, Paper.id == DailyEntry.paper_id)
                       .where(Paper.title.ilike("%multimodal model%")))
    as_of = dt.datetime.combine(newest, dt.time(12))
    query = "serving multimodal models"
    found = topics.new_matches(db=db, engine=engine, query=query, as_of=as_of, limit=50)
    assert engine.embed_query(query) is not None  # really hybrid: vectors and the model are there
    assert found, "the seed pages have papers on multimodal models"
    filters = SearchFilters(featured_from=newest - dt.timedelta(days=7), featured_to=newest)
    service = [h.card.id for h in search_papers(db=db, engine=engine, request=SearchRequest(
        q=query, filters=filters, per_page=100)).hits]
    ids = [c.id for c in found]
    assert ids == [pid for pid in service if pid in set(ids)]  # the service's order
    for card in found:
        text = f"{card.title} {card.abstract}".lower()
        assert "multimodal" in text or "serving" in text or "model" in text
