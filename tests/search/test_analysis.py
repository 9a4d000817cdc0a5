from dailypapers.search.analysis import Analyzers, window


def test_highlight_escapes_first_then_marks_stemmed_matches():
    a = Analyzers()
    html = a.highlight("Gates <b>& gating</b> in attention", a.terms("gate"))
    assert html == "<mark>Gates</mark> &lt;b&gt;&amp; <mark>gating</mark>&lt;/b&gt; in attention"


def test_neighbouring_matches_share_one_mark():
    a = Analyzers()
    assert a.highlight("a sigmoid gate after", a.terms("sigmoid gates")) == "a <mark>sigmoid gate</mark> after"


def test_no_terms_means_escaped_text_only():
    assert Analyzers().highlight("x < y", []) == "x &lt; y"


def test_window_centres_on_the_first_match_and_cuts_at_spaces():
    text = " ".join(f"word{i}" for i in range(200)) + " attention " + " ".join("tail" for _ in range(100))
    a = Analyzers()
    cut = window(text, a.first_match(text, a.terms("attention")), width=120)
    assert cut.startswith("… word") and cut.endswith(" …")
    assert "attention" in cut
    assert len(cut) < 130
    assert window("short text", None) == "short text"
