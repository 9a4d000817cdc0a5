"""The one typed settings object, read from ``DAILYPAPERS_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dailypapers.schedule import Schedule

DEFAULT_SECRET = "dailypapers-development-secret-change-me"
# 32 characters of a random token are ~190 bits; anything shorter is guessable offline from one
# signed cookie or mail link.
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Every knob of a dailypapers installation; each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="DAILYPAPERS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="development allows the default secret key; test and production refuse it. "
                    "test also hashes passwords cheaply (for the test suite).",
    )
    database_url: str = Field(
        "sqlite:///./dailypapers.db",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql+psycopg://...",
    )
    secret_key: str = Field(DEFAULT_SECRET, description="Signs sessions, CSRF tokens and mail links.")
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of the site: every absolute URL (API Link headers, feeds, mails, "
        "Markdown) is built from it, never from the request's Host header. `serve` without it "
        "uses http://HOST:PORT of its --host/--port.",
    )
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed (uvicorn's forwarded_allow_ips); empty: none, "
        "the client is the TCP peer.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=2**31,
        description="Largest request body accepted (JSON, forms); a longer one is refused with 413 "
        "while it streams in, before authentication.",
    )
    site_name: str = Field("Daily Papers", description="Shown in the header and in feeds.")
    data_dir: Path = Field(
        Path("./var"), description="Directory for search indexes and other rebuildable artefacts."
    )
    load_sample: bool = Field(
        True, description="Load the bundled sample papers when `serve` starts on an empty database."
    )
    import_batch_size: int = Field(
        1000, ge=1, le=100_000, description="Papers per transaction when importing."
    )
    page_cache_seconds: float = Field(
        5.0, ge=0, le=3600,
        description="Seconds a public page, API or feed response is reused by each web worker "
        "(and by proxies, via s-maxage); 0 renders every request.",
    )
    page_cache_megabytes: int = Field(
        64, ge=1, le=16_384, description="Memory each web worker may use for cached responses."
    )
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai",
        description="arXiv's OAI-PMH endpoint, harvested by `sync arxiv` (ListRecords, arXivRaw).",
    )
    arxiv_retries: int = Field(
        5, ge=0, le=20,
        description="Retries of one OAI-PMH request after a 503 (waiting its Retry-After), a timeout, "
        "another 5xx or a cut-off body (waiting arxiv_min_interval x 1, 2, 4… seconds).",
    )
    sync_arxiv_categories: str = Field(
        "", description="Categories `sync arxiv` harvests when given no --category, comma-separated "
        "(e.g. 'cs.LG,cs.CL'); also what the schedule syncs for the arxiv source.",
    )
    sync_arxiv_initial_days: int = Field(
        3, ge=1, le=3650,
        description="The first `sync arxiv` of a category's archive (no checkpoint, no --from) starts "
        "this many days back.",
    )
    auto_feature_categories: str = Field(
        "", description="For an instance without curators: papers of these categories (comma-separated,"
        " e.g. 'cs.LG') that `sync arxiv` brings in new are featured on their arXiv day. Empty: "
        "synced papers join the catalog only.",
    )
    web_threads: int = Field(
        8, ge=1, le=1000,
        description="Threads of each web worker for requests (and their dependencies); the "
        "worker's database pool holds as many connections plus a few for background jobs.",
    )
    db_pool_timeout: float = Field(
        5.0, gt=0, le=60,
        description="Seconds a web request waits for a database connection (or for SQLite's "
        "write lock) before it is answered 503 with Retry-After.",
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query",
        description="arXiv export API query endpoint, used to fetch a paper submitted by its arXiv id.",
    )
    arxiv_timeout: float = Field(
        20.0, gt=0, description="Seconds to wait for the arXiv API before giving up."
    )
    arxiv_min_interval: float = Field(
        3.0, ge=0, description="Seconds between two requests to the arXiv API (arXiv asks for 3)."
    )
    hf_endpoint: str = Field(
        "https://huggingface.co",
        description="Where `sync hf` reads /api/daily_papers: Hugging Face, or another dailypapers "
        "instance to mirror.",
    )
    hf_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for one response of hf_endpoint before retrying."
    )
    hf_retries: int = Field(
        4, ge=0, le=20,
        description="Retries of one hf_endpoint request after a timeout, a 5xx, a 429 or a cut-off "
        "body, waiting 1, 2, 4… seconds (or the server's Retry-After, up to 5 minutes).",
    )
    sync_hf_refresh_days: int = Field(
        7, ge=1, le=366,
        description="`sync hf` without dates syncs from its checkpoint to today and re-reads this many "
        "recent days, refreshing their upvotes and comment counts.",
    )
    sync_schedule: str | None = Field(
        None,
        description="When `serve` runs the syncs, then embeds new papers, then sends due digests: "
        "UTC times of day ('06:00' or '06:00,18:00') or an interval ('every 6h', 'every 30m'). "
        "Unset: no schedule (use cron or a systemd timer).",
    )
    sync_sources: str = Field(
        "hf", description="Sources the schedule syncs, comma-separated, in order: hf, arxiv."
    )
    sync_lease_seconds: int = Field(
        3600, ge=10, le=86_400,
        description="Seconds a scheduled run holds its lease in the database; a runner that dies "
        "is replaced after this long.",
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for outgoing mail; unset prints mails to the console instead."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port (587 STARTTLS, 465 SSL).")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="How to secure the SMTP connection: starttls, ssl (implicit TLS) or none."
    )
    smtp_username: str | None = Field(None, description="SMTP login name; unset sends without AUTH.")
    smtp_password: str | None = Field(None, description="SMTP password (used with smtp_username).")
    smtp_timeout: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server.")
    mail_from: str = Field(
        "Daily Papers <noreply@dailypapers.localhost>", description="From address of every mail the site sends."
    )
    session_days: int = Field(30, ge=1, le=365, description="Days a login session stays valid.")
    password_reset_minutes: int = Field(
        60, ge=5, le=10_080, description="Minutes a password-reset link stays valid (used once)."
    )
    signup_link_minutes: int = Field(
        1440, ge=5, le=10_080, description="Minutes a mailed sign-up link stays valid (used once)."
    )
    rate_limit_scale: float = Field(
        1.0, ge=0, description="Multiplies every rate limit (2 allows twice as many); 0 turns them off."
    )
    subscription_confirm_hours: int = Field(
        48, ge=1, le=720, description="Hours a digest subscription's confirmation link stays valid."
    )
    digest_unsubscribe_mailto: str | None = Field(
        None, description="Address of the mailto: List-Unsubscribe link (default: mail_from's address); "
        "pipe its mail to `dailypapers digest unsubscribe-mail`.",
    )
    digest_lease_seconds: int = Field(
        300, ge=1, le=86_400,
        description="Seconds a digest worker owns a claimed delivery before another may take it over.",
    )
    digest_retry_seconds: int = Field(
        600, ge=0, le=86_400,
        description="Backoff before retrying a digest after a temporary (4xx) failure; doubles per attempt.",
    )
    digest_max_attempts: int = Field(
        5, ge=1, le=100, description="Attempts of one digest before it counts as failed for good."
    )
    digest_failures_before_pause: int = Field(
        3, ge=1, le=100,
        description="Permanent (5xx) failures in a row after which a subscription is paused.",
    )
    digest_scheduler: bool = Field(
        False, description="Run `digest send` inside `serve` every digest_scheduler_minutes (off: use cron)."
    )
    digest_scheduler_minutes: int = Field(
        15, ge=1, le=1440, description="Minutes between digest runs of the scheduler inside `serve`."
    )
    remote_images: bool = Field(
        False, description="Show images that sources link to on other hosts (organization and "
        "submitter avatars, paper thumbnails); the CSP then allows https: images. Off: initials instead.",
    )
    submission_retry_seconds: int = Field(
        60, ge=0, le=86_400,
        description="Seconds between runs of `submissions retry` by the scheduler inside `serve` "
        "(submissions kept while arXiv was unreachable; one worker at a time, by lease); 0 turns "
        "it off (run the command from cron instead).",
    )
    search_embedding_model: str = Field(
        "sentence-transformers/all-MiniLM-L6-v2",
        description="Embedding model for search by meaning: the bundled all-MiniLM-L6-v2 (offline), "
        "a local sentence-transformers folder, or a Hub name (downloaded by sentence-transformers; "
        "models other than BERT need the torch extra).",
    )
    search_semantic: bool = Field(
        True, description="Use embeddings in search and similar papers; false = keyword (BM25) only."
    )
    search_rrf_k: int = Field(
        60, ge=1, le=10_000, description="k of reciprocal rank fusion: 1/(k + rank) per list."
    )
    search_keyword_weight: float = Field(
        1.0, ge=0, description="Weight of the keyword (BM25) list in reciprocal rank fusion."
    )
    search_semantic_weight: float = Field(
        1.0, ge=0, description="Weight of the embedding (meaning) list in reciprocal rank fusion."
    )
    search_title_boost: float = Field(
        2.0, gt=0, description="BM25 boost of a term matched in the title over one in the abstract."
    )
    search_candidates: int = Field(
        200, ge=10, le=5000, description="Candidates taken from each list before fusion and filters."
    )
    search_sentences: bool = Field(
        True, description="Sentence-level matching: `dailypapers embed` also embeds each abstract's "
        "sentences; similar papers are re-ranked by aligning them, and the top 10 of a hybrid search by "
        "the query's closest sentence (issue 15, docs/search.md).",
    )
    search_semantic_floor: float = Field(
        0.35, ge=-1, le=1,
        description="Least cosine similarity for a paper to match a query by meaning (0.35 calibrated "
        "on gibberish and off-topic queries, docs/search.md); -1 = every nearest candidate matches.",
    )
    search_exact_vectors_max: int = Field(
        20_000, ge=0,
        description="Up to this many vectors, nearest neighbours are exact; above it an IVF index (faiss, "
        "exact scores over the 24 nearest of ~4·√n partitions) is built.",
    )
    search_vector_backend: Literal["auto", "memory", "pgvector"] = Field(
        "auto",
        description="What finds the nearest papers by meaning: memory (the in-process exact/IVF index "
        "under data_dir), pgvector (PostgreSQL's HNSW index, read from the embeddings table), or auto "
        "(pgvector on PostgreSQL, memory on SQLite).",
    )
    search_embed_batch_size: int = Field(
        256, ge=1, le=4096,
        description="Papers embedded (and committed) per batch by `dailypapers embed`; sorted by length "
        "within a batch, so larger batches waste less padding.",
    )
    search_model_cache_dir: Path | None = Field(
        None, description="Where the ONNX graph of the embedding model is cached (default: data_dir/models)."
    )

    @model_validator(mode="after")
    def _refuse_short_secret(self) -> Settings:
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"DAILYPAPERS_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "DAILYPAPERS_SECRET_KEY must be set to a private value when "
                f"DAILYPAPERS_ENVIRONMENT={self.environment} (only development may use the default)"
            )
        return self

    @model_validator(mode="after")
    def _pgvector_needs_postgresql(self) -> Settings:
        if self.search_vector_backend == "pgvector" and self.is_sqlite:
            raise ValueError("DAILYPAPERS_SEARCH_VECTOR_BACKEND=pgvector needs a PostgreSQL database "
                             "(DAILYPAPERS_DATABASE_URL is SQLite); use auto or memory")
        return self

    @model_validator(mode="after")
    def _schedule_parses(self) -> Settings:
        if self.sync_schedule:
            Schedule.parse(self.sync_schedule)  # a ValueError names what is wrong
        return self

    @property
    def sync_source_list(self) -> list[str]:
        return [name.strip() for name in self.sync_sources.split(",") if name.strip()]

    @staticmethod
    def categories(value: str) -> list[str]:
        """A comma-separated category setting → its categories, in order, without repeats."""
        return list(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))

    @property
    def uses_https(self) -> bool:
        return self.base_url.lower().startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
