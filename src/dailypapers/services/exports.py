"""Reading the catalog back out as records (for ``dailypapers export`` and copies)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dailypapers.sources.records import Org, PaperRecord
from dailypapers.store import DailyEntry, Paper, PaperAuthor


def count_papers(*, db: Session) -> int:
    """How many papers ``iter_records`` will yield."""
    return db.scalar(select(func.count()).select_from(Paper)) or 0


def iter_records(*, db: Session, chunk: int = 1000) -> Iterator[PaperRecord]:
    """Every paper as a ``PaperRecord``, in id order, streamed in chunks."""
    last_id = 0
    while True:
        papers = db.scalars(
            select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(chunk)
            .options(selectinload(Paper.author_links).joinedload(PaperAuthor.author))
        ).unique().all()
        if not papers:
            return
        entries = {e.paper_id: e for e in db.scalars(
            select(DailyEntry).where(DailyEntry.paper_id.in_([p.id for p in papers])))}
        for paper in papers:
            entry = entries.get(paper.id)
            org = entry.organization if entry else None
            yield PaperRecord(
                arxiv_id=paper.arxiv_id,
                key=None if paper.arxiv_id else paper.key,
                version=paper.version,
                title=paper.title,
                abstract=paper.abstract,
                authors=paper.author_names,
                num_authors=paper.num_authors,
                categories=list(paper.categories or []),
                published_at=paper.published_at,
                updated_at=paper.updated_at,
                withdrawn_at=paper.withdrawn_at,
                github_repo=paper.github_repo,
                project_page=paper.project_page,
                upvotes=paper.upvotes,
                num_comments=paper.num_comments,
                featured_on=entry.day if entry else None,
                submitted_at=entry.submitted_at if entry else None,
                submitted_by=entry.submitted_by if entry else None,
                organization=Org(org.handle, org.name, org.avatar_url) if org else None,
                submitter_fullname=entry.submitter_fullname if entry else None,
                submitter_avatar_url=entry.submitter_avatar_url if entry else None,
                featured_estimated=entry.estimated if entry else False,
                ai_summary=paper.ai_summary,
                ai_summary_model=paper.ai_summary_model,
                ai_keywords=paper.ai_keywords,
                github_stars=paper.github_stars,
                media_urls=paper.media_urls,
                thumbnail=paper.thumbnail,
                author_users=([link.user for link in paper.author_links]
                              if any(link.user for link in paper.author_links) else []),
            )
        last_id = papers[-1].id
        db.expunge_all()
