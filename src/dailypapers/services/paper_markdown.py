"""The paper page as Markdown: ``GET /papers/{id}.md`` (what ``HfApi.read_paper`` fetches) and the
MCP tool ``get_paper`` return this same text.

LaTeX stays as the source wrote it: Markdown readers and LLMs understand ``$π$``.
"""

from __future__ import annotations

from dailypapers.services.papers import PaperCard


def paper_markdown(card: PaperCard, *, base_url: str) -> str:
    base = base_url.rstrip("/")
    lines = [f"# {card.title}", ""]
    if card.authors:
        lines.append("**Authors:** " + ", ".join(a.name for a in card.authors))
    elif card.author_count:
        lines.append(f"**Authors:** {card.author_count} authors")
    if card.published_at is not None:
        lines.append(f"**Published:** {card.published_at.date().isoformat()}")
    if card.featured_on is not None:
        by = f" by {card.submitted_by}" if card.submitted_by else ""
        lines.append(f"**Featured in Daily Papers:** {card.featured_on.isoformat()}{by}")
    if card.organization is not None:
        lines.append(f"**Organization:** {card.organization.name} ({card.organization.handle})")
    lines.append(f"**Upvotes:** {card.upvotes} · **Comments:** {card.num_comments}")
    links = []
    if card.arxiv_url:
        links += [f"[arXiv]({card.arxiv_url})", f"[PDF]({card.pdf_url})"]
    if card.github_repo:
        links.append(f"[Code]({card.github_repo})")
    if card.project_page:
        links.append(f"[Project page]({card.project_page})")
    if links:
        lines.append("**Links:** " + " · ".join(links))
    # Two trailing spaces would be needed for line breaks; a blank line between fields is simpler.
    body = "\n\n".join(lines[2:])
    parts = [lines[0], "", body, "", "## Abstract", "", card.abstract or "(no abstract)", "",
             f"Paper page: {base}/papers/{card.key}", ""]
    return "\n".join(parts)
