"""The reference builder: names, citation keys and LaTeX, and a round trip through the parsers."""

import datetime as dt

import bibtexparser
import orjson
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from pylatexenc.latex2text import LatexNodes2Text

from dailypapers.services.citations import (
    Name,
    build_references,
    citation_keys,
    latex,
    split_name,
)
from dailypapers.services.papers import AuthorRef, PaperCard

TRICKY = "Über 100% of {braces} & co_x #1 ~ $\\alpha_{1}$-nets"


def card(n: int, title: str = "Attention is all you need", authors=("Ada Lovelace", "Alan Turing"),
         published=dt.datetime(2024, 5, 6, 7, 8), abstract: str = "An abstract.") -> PaperCard:
    return PaperCard(id=n, key=f"2405.{n:05d}", arxiv_id=f"2405.{n:05d}", title=title, abstract=abstract,
                     authors=tuple(AuthorRef(i, a) for i, a in enumerate(authors)),
                     num_authors=len(authors), published_at=published, upvotes=0, num_comments=0, imported_comments=0,
                     github_repo=None, project_page=None, featured_on=dt.date(2024, 5, 7),
                     submitted_at=None, submitted_by=None, organization=None)


@pytest.mark.parametrize(("full", "name"), [
    ("Ada Lovelace", Name("Lovelace", "Ada")),
    ("John Ronald Reuel Tolkien", Name("Tolkien", "John Ronald Reuel")),
    ("Ludwig van Beethoven", Name("van Beethoven", "Ludwig")),
    ("Maria de la Cruz", Name("de la Cruz", "Maria")),
    ("Lovelace, Ada", Name("Lovelace", "Ada")),
    ("Qwen", Name("Qwen", "")),
    ("  Ada   Lovelace ", Name("Lovelace", "Ada")),
    ("van Dyck", Name("Dyck", "van")),  # a particle needs a given name before it
])
def test_split_name(full, name):
    assert split_name(full) == name


def test_keys_are_surname_year_first_word_and_unique_whatever_the_order():
    cards = [card(1), card(2), card(3, title="The Transformer", authors=("Jürgen Müller",)),
             card(4, authors=()), card(5, published=None, title="On $\\pi_0$ policies")]
    keys = citation_keys(cards)
    assert keys[1] == "lovelace2024attentiona" and keys[2] == "lovelace2024attentionb"
    assert keys[3] == "muller2024transformer"
    assert keys[4] == "anon2024attention"
    assert keys[5] == "lovelace2024pi0"  # no published date: the featured day's year
    assert len(set(keys.values())) == len(cards)
    assert citation_keys(list(reversed(cards))) == keys


def test_latex_escapes_specials_keeps_math_and_balances_braces():
    assert latex("50% & co_x #1") == "50\\% \\& co\\_x \\#1"
    assert latex("$\\pi_0$: a policy") == "$\\pi_0$: a policy"
    for text in ("back}slash{", "one { open", "$a}$ and b", "}}{{"):
        depth = 0
        for char in latex(text):
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, text
        assert depth == 0, text


AUTHORS = ("Jürgen Müller", "Ludwig van Beethoven", "Ada Lovelace")
CARDS = [card(1, title=TRICKY, authors=AUTHORS, abstract="Uses 50% & $x_1$.\nSecond line."),
         card(2, title="Plain title", authors=("Alan Turing",), published=dt.datetime(2023, 1, 2)),
         card(3, title="Plain title", authors=("Alan Turing",), published=dt.datetime(2023, 1, 2))]


def _summary(cards):
    return [(c.arxiv_id, " ".join(c.title.split()), [a.name for a in c.authors],
             c.published_at.year) for c in cards]


def bibtex_names(entry) -> list[str]:
    """The entry's authors, first name first (bibtexparser decodes fields, not split names)."""
    return [LatexNodes2Text().latex_to_text(n.merge_first_name_first) for n in entry["author"]]


def parse_bibtex(text: str):
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts(), LatexDecodingMiddleware()])
    assert not library.failed_blocks
    return library.entries


def test_bibtex_round_trip():
    entries = parse_bibtex(build_references(cards=CARDS, fmt="bibtex", base_url="http://x").decode())
    got = [(e["eprint"], e["title"], bibtex_names(e), int(e["year"]))
           for e in entries]
    assert got == _summary(CARDS)
    assert [e.key for e in entries] == ["muller2024uber", "turing2023plaina", "turing2023plainb"]
    assert entries[0]["doi"] == "10.48550/arXiv.2405.00001"
    assert entries[0]["url"] == "https://arxiv.org/abs/2405.00001"


def test_a_team_name_with_and_stays_one_author():
    text = build_references(cards=[card(1, authors=("Qwen Team and Friends", "Ada Lovelace"))],
                            fmt="bibtex", base_url="http://x").decode()
    assert "author = {{Qwen Team and Friends} and Lovelace, Ada}" in text
    assert bibtex_names(parse_bibtex(text)[0]) == ["Qwen Team and Friends", "Ada Lovelace"]


def test_ris_round_trip():
    text = build_references(cards=CARDS, fmt="ris", base_url="http://x").decode()
    assert text.startswith("TY  - JOUR")
    entries = rispy.loads(text)
    got = [(e["note"].removeprefix("arXiv:"), e["title"],
            [" ".join(reversed(a.split(", "))) for a in e["authors"]], int(e["year"])) for e in entries]
    assert got == _summary(CARDS)
    assert entries[0]["abstract"] == "Uses 50% & $x_1$. Second line."  # RIS holds one line per tag
    assert entries[0]["date"] == "2024/05/06/"


def test_csl_json_round_trip():
    items = orjson.loads(build_references(cards=[*CARDS, CARDS[0]], fmt="csl-json", base_url="http://x"))
    got = [(i["number"], i["title"], [f"{a['given']} {a['family']}" for a in i["author"]],
            i["issued"]["date-parts"][0][0]) for i in items]
    assert got == _summary(CARDS)  # the repeated paper appears once
    first = items[0]
    assert first["type"] == "article" and first["archive"] == "arXiv"
    assert first["note"] == "arXiv:2405.00001" and first["DOI"] == "10.48550/arXiv.2405.00001"
    assert first["issued"] == {"date-parts": [[2024, 5, 6]]}
    assert first["abstract"] == "Uses 50% & $x_1$.\nSecond line."


def test_same_cards_same_bytes():
    for fmt in ("bibtex", "ris", "csl-json"):
        assert (build_references(cards=CARDS, fmt=fmt, base_url="http://x")
                == build_references(cards=CARDS, fmt=fmt, base_url="http://x"))
