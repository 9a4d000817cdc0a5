"""Search: hybrid keyword (BM25, tantivy) + meaning (sentence embeddings) retrieval over the catalog.

The database stays the source of truth. Everything under ``settings.data_dir / "search"`` is an
index that is fed from it and can be rebuilt from it with ``dailypapers index rebuild``:

- ``query``     turns any user text into terms, phrases, exclusions and pins (never a parse error)
- ``analysis``  the tantivy analyzers and the highlighter that share one notion of a "term"
- ``keyword``   the BM25 index, caught up with ``papers.modified_at`` before every query
- ``encoder``   the embedding provider (the bundled all-MiniLM-L6-v2 by default)
- ``embedder``  ``dailypapers embed``: vectors into the ``embeddings`` table, resumable
- ``vectors``   the in-process nearest-neighbour index, caught up with the ``embeddings`` table
- ``neighbours`` the dense step both vector backends implement; pgvector's (PostgreSQL) lives here
- ``fusion``    reciprocal rank fusion (a pure function)
- ``engine``    one object per process that owns the indexes (``app.state.search``)
"""
