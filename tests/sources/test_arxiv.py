"""The arXiv Atom parser on recorded API responses (tests/fixtures/arxiv, see its README)."""

from __future__ import annotations

import datetime as dt

import pytest

from dailypapers.sources.arxiv import FeedError, is_withdrawal_notice, parse_arxiv_feed
from tests.conftest import FIXTURES

ARXIV = FIXTURES / "arxiv"


def _feed(name: str):
    return parse_arxiv_feed((ARXIV / name).read_bytes(), source=name)


def test_versioned_ids_collapse_keeping_version_and_first_version_date():
    feed = _feed("search_quantum_criticality.xml")
    assert feed.rejected == [] and feed.errors == [] and feed.total_results == 2
    first, second = feed.records
    assert (first.arxiv_id, first.version) == ("1111.2011", 2)
    assert first.published_at == dt.datetime(2011, 11, 8, 18, 48, 36)  # v1 date
    assert first.updated_at == dt.datetime(2012, 4, 2, 12, 38, 54)  # v2 date
    assert first.title == ("Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large "
                           "Connectivity Limit")
    assert first.abstract.startswith("Theoretical description of anisotropic systems, such as layered "
                                     "superconductors")
    assert first.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert first.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert first.withdrawn_at is None
    assert (second.arxiv_id, second.version) == ("cond-mat/0607501", 2)


def test_2026_format_entities_and_primary_category_first():
    [paper] = _feed("id_list_astro-ph_0601001.xml").records
    assert paper.arxiv_id == "astro-ph/0601001" and paper.version == 1
    assert "Gould & Morgan (2003)" in paper.abstract and "V_max<17.5" in paper.abstract
    assert paper.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert paper.categories == ["astro-ph"]
    [other] = _feed("id_list_1605.08386.xml").records
    assert other.categories == ["math.CO", "math.ST"]


def test_empty_result_has_no_records():
    feed = _feed("id_list_0000.0000.xml")
    assert (feed.records, feed.rejected, feed.errors, feed.total_results) == ([], [], [], 0)


def test_api_error_entry_is_reported_apart_with_its_line():
    feed = _feed("id_list_abc.xml")
    assert feed.records == [] and feed.rejected == []
    [error] = feed.errors
    assert (error.source, error.line) == ("id_list_abc.xml", 9)
    assert error.reason == "arXiv API error: incorrect id format for abc"


def test_malformed_entries_are_rejected_with_their_line_and_the_rest_kept():
    feed = _feed("constructed_malformed.xml")
    assert [r.arxiv_id for r in feed.records] == ["1605.08386"]
    assert [(r.line, r.reason) for r in feed.rejected] == [
        (10, "not an arXiv id: 'http://arxiv.org/abs/not-an-arxiv-id'"),
        (48, "entry 1605.08387 has no title"),
        (67, "bad date '26 May 2016'"),
    ]


def test_withdrawn_papers_of_both_styles():
    kang, cho = _feed("constructed_withdrawn.xml").records
    assert kang.withdrawn_at == kang.updated_at == dt.datetime(2026, 1, 20, 9, 0)
    assert kang.abstract.startswith("The application of machine learning")  # notice in the comment
    assert cho.withdrawn_at == dt.datetime(2010, 3, 1, 12, 0)  # notice in place of the abstract


@pytest.mark.parametrize("text", [
    "This paper has been withdrawn by the author due to a serious mistake on Lemma 2.4.",
    "This submission has been withdrawn by arXiv administrators due to disputed authorship",
    "arXiv admin note: This submission has been withdrawn by arXiv administrators",
    "Withdrawn due to conceptual errors highlighted by referees",
    "The paper is withdrawn as some errors are noticed and they need to be fixed",
])
def test_withdrawal_notices(text):
    assert is_withdrawal_notice(text)


@pytest.mark.parametrize("text", [
    "This manuscript supersedes arXiv:2510.26642, which has been withdrawn with the agreement "
    "of all its authors.",
    "Twelve participants were withdrawn from the study after week four.",
    "10 pages, 11 figures; added reference",
    "",
])
def test_not_withdrawal_notices(text):
    assert not is_withdrawal_notice(text)


def test_a_v1_entry_is_never_withdrawn():
    body = (ARXIV / "constructed_withdrawn.xml").read_text().replace("2601.07131v2", "2601.07131v1")
    kang = parse_arxiv_feed(body).records[0]
    assert kang.version == 1 and kang.withdrawn_at is None


def test_not_well_formed_xml_names_the_line():
    with pytest.raises(FeedError) as err:
        parse_arxiv_feed(b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n<entry>\n</feed>')
    assert err.value.line == 4 and "not well-formed XML: mismatched tag" in str(err.value)


def test_invalid_utf8_names_the_line():
    body = (ARXIV / "id_list_1605.08386.xml").read_bytes().replace(b"Caprice", b"Capr\xffce")
    with pytest.raises(FeedError) as err:
        parse_arxiv_feed(body)
    assert err.value.line == 23 and "not well-formed" in str(err.value)


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
    b'<feed><entry><id>http://arxiv.org/abs/1605.08386v1</id></entry></feed>',  # no Atom namespace
    b"<html><body>Service Unavailable</body></html>",
])
def test_xml_that_is_not_atom_is_refused(body):
    with pytest.raises(FeedError, match="not an Atom feed") as err:
        parse_arxiv_feed(body)
    assert err.value.line == 1
