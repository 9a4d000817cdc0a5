"""Progress display of long commands: silent when quick, a live bar on a terminal, lines otherwise."""

from __future__ import annotations

import io

from rich.console import Console

from dailypapers.cli.context import CommandProgress


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(terminal: bool) -> tuple[CommandProgress, io.StringIO, Clock]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=100)
    clock = Clock()
    return CommandProgress(console=console, delay=1.0, every=5.0, clock=clock), out, clock


def test_work_done_within_a_second_shows_nothing():
    for terminal in (True, False):
        bar, out, clock = _progress(terminal)
        with bar:
            task = bar.add_task("importing", total=10)
            clock.now += 0.5
            bar.advance(task, 10)
        assert out.getvalue() == ""


def test_without_a_terminal_plain_lines_every_few_seconds_and_at_the_end():
    bar, out, clock = _progress(terminal=False)
    with bar:
        task = bar.add_task("importing JSON Lines", total=11027)
        clock.now += 1.5
        bar.advance(task, 1000)
        clock.now += 1.0
        bar.advance(task, 1000)  # within 5 s of the last line: nothing new
        clock.now += 5.0
        bar.advance(task, 3000)
        bar.update(task, completed=11027)
    assert out.getvalue().splitlines() == [
        "importing JSON Lines: 1,000/11,027 (9%)",
        "importing JSON Lines: 5,000/11,027 (45%)",
        "importing JSON Lines: 11,027/11,027 (100%)",
    ]
    assert "\x1b" not in out.getvalue()  # no terminal control codes in a log file


def test_unknown_total_prints_the_count():
    bar, out, clock = _progress(terminal=False)
    with bar:
        task = bar.add_task("sending digests", total=None)
        clock.now += 2
        bar.advance(task, 7)
    assert out.getvalue().splitlines() == ["sending digests: 7", "sending digests: 7"]


def test_on_a_terminal_the_live_bar_appears_after_the_delay():
    bar, out, clock = _progress(terminal=True)
    with bar:
        task = bar.add_task("exporting", total=200)
        bar.advance(task, 50)
        assert out.getvalue() == ""
        clock.now += 1.2
        bar.advance(task, 150)
    text = out.getvalue()
    assert "exporting" in text and "200/200" in text and "━" in text
