"""Import into a collection: entries matched by arXiv id, DOI or title; unmatched ones reported;
a bad file changes nothing; export → import → export keeps every matched paper."""

import pytest
from sqlalchemy import func, select

from dailypapers.services import collections, library
from dailypapers.services.citations import build_references
from dailypapers.services.library_import import import_references
from dailypapers.services.papers import load_cards
from dailypapers.sources.references import ReferenceFileError
from dailypapers.store import CollectionItem
from tests.factories import make_paper, make_user


@pytest.fixture
def papers(db):
    return [make_paper(db, title="Sparse attention at scale", authors=["Ada Lovelace"]),
            make_paper(db, title="Dense retrieval, revisited", authors=["Émile Borel", "Alan Turing"]),
            make_paper(db, arxiv_id=None, title="A seed paper with $\\pi_0$ math", authors=[]),
            make_paper(db, title="Shared title", authors=["A B"]),
            make_paper(db, title="Shared title", authors=["C D"])]


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csl-json"])
def test_export_import_export_keeps_every_paper(db, papers, fmt):
    owner, other = make_user(db), make_user(db)
    kept = papers[:3]  # arXiv papers and a seed paper (found by its title)
    for paper in kept:
        library.save_paper(db=db, user_id=owner.id, paper_key=paper.key, collection="Mine")
    source = collections.collection_view(db=db, collection_id=library.collection_id_of(
        db=db, user_id=owner.id, collection="Mine"), viewer_id=owner.id)
    exported = build_references(cards=source.cards, fmt=fmt, base_url="http://papers.test")
    name = {"bibtex": "mine.bib", "ris": "mine.ris", "csl-json": "mine.json"}[fmt]
    report = import_references(db=db, user_id=other.id, filename=name, content=exported,
                               collection="Imported")
    assert report.unmatched == [] and report.added == 3
    assert {m.paper_key for m in report.matched} == {p.key for p in kept}
    assert {m.by for m in report.matched if m.paper_key == kept[2].key} == {"title"}
    imported = collections.collection_view(db=db, collection_id=report.collection_id, viewer_id=other.id)
    again = build_references(cards=load_cards(db=db, paper_ids=[c.id for c in imported.cards]),
                             fmt=fmt, base_url="http://papers.test")
    assert sorted({c.id for c in imported.cards}) == sorted(p.id for p in kept)
    if fmt == "bibtex":  # the same entries, whatever their order
        def entries(text: bytes) -> list[str]:
            return sorted(e.strip() for e in text.decode().split("\n\n") if e.strip())

        assert entries(exported) == entries(again) and len(entries(again)) == 3


def test_unmatched_entries_are_reported_with_reasons(db, papers):
    ada = make_user(db)
    bib = f"""@misc{{byid, title={{Whatever it is called here}}, eprint={{{papers[0].key}v2}}, archivePrefix={{arXiv}}}}
@article{{bydoi, title={{X}}, doi={{10.48550/arXiv.{papers[1].key}}}}}
@article{{bytitle, title={{Sparse Attention at Scale.}}}}
@article{{missing, title={{A paper nobody imported}}, eprint={{2999.99999}}}}
@article{{twice, title={{Shared title}}}}
@article{{otherdoi, title={{Not here}}, doi={{10.1000/xyz}}}}
@misc{{nothing, author={{Nobody}}}}
""".encode()
    report = import_references(db=db, user_id=ada.id, filename="refs.bib", content=bib, collection=None)
    assert [(m.ref.label, m.by) for m in report.matched] == [
        ("byid", "arXiv id"), ("bydoi", "arXiv id"), ("bytitle", "title")]
    assert report.added == 2 and report.collection_name == "Saved"
    reasons = {u.ref.label: u.reason for u in report.unmatched}
    assert reasons == {"missing": "arXiv 2999.99999 is not in the catalog (submit it to add it)",
                       "twice": "2 papers in the catalog have this title",
                       "otherdoi": "no paper in the catalog has this title",
                       "nothing": "no title, arXiv id or DOI to match it by"}
    assert report.total == 7


def test_a_bad_file_changes_nothing(db, papers):
    ada = make_user(db)
    with pytest.raises(ReferenceFileError):
        import_references(db=db, user_id=ada.id, filename="x.json", content=b"[{", collection="New one")
    assert collections.collections_of(db=db, user_id=ada.id) == []
    assert db.scalar(select(func.count()).select_from(CollectionItem)) == 0
