import pytest

from dailypapers.search.query import MAX_QUERY_CHARS, parse_query


def test_words_phrases_and_exclusions():
    parsed = parse_query('"linear attention" -mamba OR transformer* (gating')
    assert parsed.phrases == (("linear", "attention"),)
    assert parsed.excluded == ("mamba",)
    assert parsed.words == ("transformer", "gating")
    assert parsed.text == "linear attention transformer* (gating"


@pytest.mark.parametrize("text", ["2312.17276", "2312.17276v2", "arXiv:2312.17276",
                                  "https://arxiv.org/abs/2312.17276", "https://arxiv.org/pdf/2312.17276v1.pdf",
                                  "arxiv.org/abs/2312.17276", "https://huggingface.co/papers/2312.17276",
                                  "  hf.co/papers/2312.17276  "])
def test_a_whole_query_naming_a_paper_is_an_id_lookup(text):
    parsed = parse_query(text)
    assert parsed.arxiv_ids == ("2312.17276",)
    assert parsed.is_id_lookup


def test_ids_inside_a_longer_query_are_pins_but_not_a_lookup():
    parsed = parse_query("compare 2312.17276 with 2401.00001v3")
    assert parsed.arxiv_ids == ("2312.17276", "2401.00001")
    assert not parsed.is_id_lookup


@pytest.mark.parametrize("text", ["", "   ", "((((", '"', "-", "🤖🤖", "* * *", "AND OR NOT NEAR"])
def test_queries_without_words_are_empty(text):
    assert parse_query(text).is_empty


def test_long_queries_are_cut_not_refused():
    parsed = parse_query("attention " * 5000)
    assert len(parsed.raw) == 50_000
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert parsed.words == ("attention",)


def test_the_title_key_matches_the_catalogs_normalisation():
    assert parse_query("Gated Attention: for LLMs!").title_key == "gated attention for llms"
