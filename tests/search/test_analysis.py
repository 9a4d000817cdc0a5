from dailypapers.search.analysis import Analyzers, Highlighter, window


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


def test_one_highlighter_serves_a_page_of_texts_with_their_spans_reused():
    a = Analyzers()
    marks = Highlighter(a, a.terms("gated attention"))
    texts = ["Gated attention", "the attention is all", "no match here", "GATES & attentive"]
    expected = ["<mark>Gated attention</mark>", "the <mark>attention</mark> is all", "no match here",
                "<mark>GATES</mark> &amp; <mark>attentive</mark>"]
    assert [marks.highlight(t) for t in texts] == expected
    assert [marks.highlight(t) for t in reversed(texts)] == list(reversed(expected))  # remembered words
    assert [a.highlight(t, a.terms("gated attention")) for t in texts] == expected
    spans = marks.spans(texts[1])
    assert spans == [(4, 13)] and marks.first_match(texts[1], spans) == 4 == a.first_match(texts[1], ["attent"])
    assert marks.first_match("no match here") is None


def test_a_word_the_analyzer_drops_falls_back_to_word_by_word():
    a = Analyzers()
    text = "gating " + "x" * 50 + " gates"  # the 50-letter word is no term (tantivy drops words over 40 bytes)
    assert a.highlight(text, a.terms("gate")) == "<mark>gating</mark> " + "x" * 50 + " <mark>gates</mark>"
