"""Reading reference-manager files: every entry comes back with where it is and what can match
it, unreadable entries are kept with their problem, and unusable files are refused whole."""

import pytest

from dailypapers.sources.references import ReferenceFileError, arxiv_id_in, read_references

BIB = rb"""@misc{vaswani2017attention,
  title = {Attention Is All You Need},
  eprint = {1706.03762v7},
  archivePrefix = {arXiv},
}
@article{devlin, title={{BERT}: Pre-training of {D}eep Transformers}, journal={arXiv preprint arXiv:1810.04805}}
@article{accents, title={Caf\'e {\"u}ber alles}, doi={10.48550/arXiv.2401.01234}}
@article{broken, title={Unbalanced { braces}
@misc{empty, author={Nobody}}
"""


def test_bibtex_entries_with_their_lines_ids_and_problems():
    fmt, refs = read_references(filename="refs.bib", content=BIB)
    assert fmt == "bibtex"
    assert [(r.where, r.label, r.arxiv_id) for r in refs[:3]] == [
        ("line 1", "vaswani2017attention", "1706.03762"), ("line 6", "devlin", "1810.04805"),
        ("line 7", "accents", "2401.01234")]
    assert refs[1].title == "BERT: Pre-training of Deep Transformers"
    assert refs[2].title == "Café über alles" and refs[2].doi == "10.48550/arxiv.2401.01234"
    assert refs[3].where == "line 8" and "could not be read" in refs[3].problem
    assert refs[4].label == "empty" and refs[4].problem == "no title, arXiv id or DOI to match it by"


def test_ris_and_csl_json_entries():
    ris = (b"TY  - JOUR\nTI  - Some title\nUR  - https://arxiv.org/abs/2401.00001v2\nER  - \n\n"
           b"TY  - JOUR\nT1  - Other title\nDO  - https://doi.org/10.1000/XYZ\nER  - \n")
    fmt, refs = read_references(filename="zotero.ris", content=ris)
    assert fmt == "ris"
    assert [(r.where, r.title, r.arxiv_id, r.doi) for r in refs] == [
        ("line 1", "Some title", "2401.00001", None), ("line 6", "Other title", None, "10.1000/xyz")]
    csl = (b'[{"id": "a", "title": "T", "URL": "http://arxiv.org/abs/hep-th/9901001"},'
           b' {"id": "b", "title": "U", "archive": "arXiv", "number": "2301.00003"}, 5]')
    fmt, refs = read_references(filename="My Library.json", content=csl)
    assert fmt == "csl-json"
    assert [(r.where, r.arxiv_id) for r in refs[:2]] == [("item 1", "hep-th/9901001"), ("item 2", "2301.00003")]
    assert refs[2].problem == "not a CSL item (an object)"


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe@misc{", "not UTF-8"), (b"   ", "empty"), (b"hello world", "not a BibTeX, RIS or CSL-JSON"),
    (b"[1,", "not valid JSON"), (b'"text"', "not a BibTeX"), (b"@comment{nothing here}", "no BibTeX entries"),
])
def test_unusable_files_are_refused_whole(content, message):
    with pytest.raises(ReferenceFileError, match=message):
        read_references(filename="upload", content=content)


def test_arxiv_ids_in_free_text():
    assert arxiv_id_in(["see arXiv: 2401.01234v3"]) == "2401.01234"
    assert arxiv_id_in([None, "https://arxiv.org/pdf/2401.01234.pdf"]) == "2401.01234"
    assert arxiv_id_in(["doi:10.48550/arXiv.2312.00001"]) == "2312.00001"
    assert arxiv_id_in(["Proceedings of ICML 2024"]) is None
