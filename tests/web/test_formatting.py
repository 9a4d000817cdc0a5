"""LaTeX left readable, and always escaped."""

import pytest

from dailypapers.web.formatting import long_date, plural, readable_math, strip_math


@pytest.mark.parametrize(("source", "html"), [
    ("PanGu-$π$: Enhancing", 'PanGu-<span class="math">π</span>: Enhancing'),
    ("PanGu-$\\pi$", 'PanGu-<span class="math">π</span>'),
    ("costs $5 and $10 each", "costs $5 and $10 each"),  # Pandoc's rule: not math
    ("$\\mathcal{O}(n^2 \\log n)$", '<span class="math">O(n<sup>2</sup> log n)</span>'),
    ("$\\alpha_{t}=0.5$", '<span class="math">α<sub>t</sub>=0.5</span>'),
    ("$x<y$ & <b>", '<span class="math">x&lt;y</span> &amp; &lt;b&gt;'),
    ("$$\\frac{a}{b+c}$$", '<span class="math">a/(b+c)</span>'),
    ("a \\$5 fee", "a \\$5 fee"),
    ("no math at all <script>", "no math at all &lt;script&gt;"),
    ("", ""),
])
def test_readable_math(source, html):
    assert str(readable_math(source)) == html


def test_markup_inside_math_is_escaped():
    out = str(readable_math("$<img src=x onerror=alert(1)>$"))
    assert "<img" not in out and "&lt;img" in out


def test_strip_math_for_plain_text():
    assert strip_math("PanGu-$π$ at $10^{-3}$") == "PanGu-π at 10^-3"


def test_small_helpers():
    import datetime as dt

    assert long_date(dt.date(2025, 5, 10)) == "May 10, 2025" and long_date(None) == ""
    assert plural(1, "author") == "1 author" and plural(13, "author") == "13 authors"


def test_plain_text_without_a_dollar_is_returned_as_is():
    from dailypapers.web.formatting import strip_math

    text = "Attention {is} all you need \\alpha, 50% of it"
    assert strip_math(text) is text
    assert strip_math("Cost $O(n^2)$ in time") != "Cost $O(n^2)$ in time"
