import datetime as dt

from dailypapers.sources.seeds import parse_seed_page
from tests.conftest import SEEDS


def _all(year: int = 2025):
    records, rejected = [], []
    for path in SEEDS:
        got, bad = parse_seed_page(path.read_text(), year=year, source=path.name)
        records += got
        rejected += bad
    return records, rejected


def test_three_seed_pages_hold_184_cards_of_183_papers():
    records, rejected = _all()
    assert rejected == []
    assert len(records) == 184
    assert len({r.key for r in records}) == 183


def test_a_card_is_featured_on_its_own_date_marked_estimated_not_on_the_page_header_day():
    records, _ = _all()
    dated = [r for r in records if r.published_at is not None]
    assert dated and all(r.featured_on == r.published_at.date() and r.featured_estimated
                         for r in dated)
    assert all(r.featured_on is None for r in records if r.published_at is None)
    # The headers ("Nov 20", "Oct 29", "Dec 10") are the days the pages were viewed.
    assert len({r.featured_on for r in dated}) > 50


def test_irregular_cards_without_meta_do_not_swallow_their_neighbour():
    records, _ = _all()
    by_title = {r.title: r for r in records}
    irregular = [r for r in records if r.num_authors is None and r.organization is None]
    assert len(irregular) == 6
    dale = by_title["Dale meets Langevin: A Multiplicative Denoising Diffusion Model"]
    assert dale.abstract.startswith("Gradient descent has proven")
    assert "Adaptive Computation" not in dale.abstract
    assert dale.published_at is None and dale.upvotes is None
    nxt = by_title["Adaptive Computation Modules: Granular Conditional Computation For Efficient Inference"]
    assert nxt.num_authors == 5 and nxt.published_at == dt.datetime(2023, 12, 15)
    assert "Kinetics: Rethinking Test-Time Scaling Laws" in by_title


def test_meta_line_fields():
    records, _ = _all()
    by_title = {r.title: r for r in records}
    gated = by_title["Gated Attention for Large Language Models: Non-linearity, Sparsity, and Attention-Sink-Free"]
    assert (gated.num_authors, gated.published_at, gated.upvotes) == (13, dt.datetime(2025, 5, 10), 0)
    ctm = by_title["Continuous Thought Machines"]
    assert (ctm.organization.handle, ctm.organization.name) == ("SakanaAI", "Sakana AI")
    meta = by_title[next(t for t in by_title if t.startswith("The Entropy Mechanism"))]
    assert meta.upvotes == 4
    assert by_title[next(t for t in by_title if "FuriosaAI" in str(by_title[t].organization))].upvotes == 2


def test_year_option_applies_only_to_dates_without_year():
    records, _ = _all(year=2024)
    by_title = {r.title: r for r in records}
    gated = by_title["Gated Attention for Large Language Models: Non-linearity, Sparsity, and Attention-Sink-Free"]
    assert gated.published_at == dt.datetime(2024, 5, 10)
    dated = [r for r in records if r.published_at and r.published_at.year == 2023]
    assert dated, "dates printed with a year keep it"


def test_stray_dot_and_lone_date_blocks_are_ignored():
    text = ("Nov 20\n\nTitle A\n\nAbstract A.\n\n·\n\nNov 1, 2024\n\nTitle B\n\nAbstract B.\n\n"
            "  • 2 authors\n·\nMay 4 3\n")
    records, rejected = parse_seed_page(text, year=2025)
    assert [r.title for r in records] == ["Title A", "Title B"]
    assert records[1].num_authors == 2 and records[1].upvotes == 3
    assert rejected == []


def test_card_before_day_header_is_reported_with_its_line():
    records, rejected = parse_seed_page("Lonely title\n\nLonely abstract\n", year=2025, source="x.txt")
    assert records == []
    assert rejected[0].source == "x.txt" and rejected[0].line == 1
