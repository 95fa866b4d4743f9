"""The leak check (grader.service.leakcheck) on its own: what counts as giving the solution
away, what does not, and how the streaming gate holds code until it is checked."""

from __future__ import annotations

import pytest

from grader.service.leakcheck import LeakFound, ReplyGate, SolutionGuard, code_tokens

SOLUTION = ("def squares(n):\n    ### BEGIN SOLUTION\n"
            "    return [i * i for i in range(1, n + 1)]\n    ### END SOLUTION\n")
STARTER = "def squares(n):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
LEARNER = "def squares(n):\n    return [i * i for i in range(n)]\n"
LONGER = '''def word_counts(text):
    ### BEGIN SOLUTION
    counts = {}
    for word in text.lower().split():
        word = word.strip(".,;!?")
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts
    ### END SOLUTION
'''
LONGER_STARTER = "def word_counts(text):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


@pytest.fixture
def guard():
    return SolutionGuard([SOLUTION, LONGER], [STARTER, LONGER_STARTER, LEARNER])


LEAKS = {
    "verbatim": f"Here:\n```python\n{SOLUTION}```\n",
    "renamed": "```python\ndef squares(limit):\n    return [k*k for k in range(1, limit+1)]\n```",
    "reformatted": "```\nreturn [\n    i * i\n    for i in range(1, n + 1)\n]\n```",
    "inline": "Write `return [x*x for x in range(1,n+1)]` and you are done.",
    "unfenced": "def squares(m):\n  out = [j*j for j in range(1, m+1)]\n  return out\n",
    "other cell, renamed": ("```python\ndef f(s):\n    d = {}\n    for w in s.lower().split():\n"
                            "        w = w.strip('.,')\n        if w:\n"
                            "            d[w] = d.get(w, 0) + 1\n    return d\n```"),
    "tilde fence": "~~~\nreturn [a * a for a in range(1, n + 1)]\n~~~\n",
}

HARMLESS = {
    "prose": ("Look at the failing test: it expects [1, 4, 9] for squares(3). Which number "
              "does your list start from? Don't forget that range(n) starts at 0!"),
    "the learner's own code": f"Your code is:\n```python\n{LEARNER}```\nWhat does it return "
                              "for n = 3?",
    "the starter code": "Keep `def squares(n):` and replace `raise NotImplementedError()`.",
    "a general example on other data": ("A comprehension builds a list: "
                                        "`[c.upper() for c in 'abc']` gives ['A', 'B', 'C']."),
    "dict get, in words": "A dictionary's get method takes a default for missing keys.",
}


@pytest.mark.parametrize("reply", LEAKS.values(), ids=LEAKS.keys())
def test_leaks_are_found(guard, reply):
    assert guard.check_reply(reply) is not None


@pytest.mark.parametrize("reply", HARMLESS.values(), ids=HARMLESS.keys())
def test_no_false_positive(guard, reply):
    assert guard.check_reply(reply) is None
    gate = ReplyGate(guard)
    assert gate.feed(reply) + gate.finish() == reply


def test_a_loop_instead_of_the_comprehension_is_still_found(guard):
    loop = ("```python\nresult = []\nfor i in range(1, n + 1):\n    result.append(i * i)\n"
            "return result\n```")
    assert guard.check_reply(loop).kind == "similarity"


def test_the_same_algorithm_in_words_passes(guard):
    """A known limit (the module and the instructor's guide say so): prose is not code."""
    words = ("Make a list of each whole number from one up to and including n, multiplied "
             "by itself, and return that list.")
    assert guard.check_reply(words) is None


def test_naming_the_one_missing_piece_counts_once_the_rest_is_written(guard):
    """The learner wrote all but the range's bounds: the bounds ARE what is left of the
    solution, so a reply spelling them out is too close; for a learner with only the
    starter code, the same reply is a hint."""
    hint = "Consider `range(1, n + 1)`: which numbers does it give you?"
    assert guard.check_reply(hint) is not None
    assert SolutionGuard([SOLUTION], [STARTER]).check_reply(hint) is None


def test_identifiers_and_literals_are_normalised():
    assert code_tokens("total = price * 3  # note") == code_tokens("x=y*10")
    assert code_tokens("print('a')") == ["print", "(", "STR", ")"]
    assert code_tokens("don't panic: it's fine")  # not Python: the regex still tokenizes


def test_the_learner_quoting_their_own_solution_is_allowed():
    solved = "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
    guard = SolutionGuard([SOLUTION], [STARTER, solved])
    assert guard.check_reply(f"Your cell:\n```python\n{solved}```\nlooks right.") is None


def test_the_gate_sends_prose_by_lines_and_holds_code_until_the_fence_closes(guard):
    gate = ReplyGate(guard)
    assert gate.feed("First a thought") == ""            # not a whole line yet
    assert gate.feed(".\nAnd a question?\n```py") == "First a thought.\nAnd a question?\n"
    assert gate.feed("thon\nx = [c for c in 'ab']\n") == ""  # held: the block is open
    assert gate.feed("```\nDone.") == "```python\nx = [c for c in 'ab']\n```\n"
    assert gate.finish() == "Done."


def test_the_gate_stops_before_the_leaking_block_is_shown(guard):
    gate = ReplyGate(guard)
    shown = gate.feed("Try this:\n```python\n")
    shown += gate.feed("def squares(n):\n    return [k * k for k in range(1, n + 1)]\n")
    assert shown == "Try this:\n"
    with pytest.raises(LeakFound) as found:
        gate.feed("```\n")
    assert found.value.violation.kind in ("line", "similarity")


def test_the_gate_stops_unfenced_code_at_the_line_that_completes_it(guard):
    gate = ReplyGate(guard)
    shown = gate.feed("Something like\n")
    with pytest.raises(LeakFound):
        shown += gate.feed("squares = lambda n: [i * i for i in range(1, n + 1)]\n")
    assert "range(1" not in shown


def test_an_unclosed_block_is_checked_at_the_end(guard):
    gate = ReplyGate(guard)
    assert gate.feed("```\nreturn [i*i for i in range(1, n+1)]\n") == ""
    with pytest.raises(LeakFound):
        gate.finish()


def test_a_tiny_solution_is_found_only_whole():
    """A known limit: a one-line `return x + 1` is too short (4 tokens) to be a solution
    line by itself, so alone it passes; with its function around it, it is found."""
    guard = SolutionGuard(["def f(x):\n    return x + 1\n"], ["def f(x):\n    pass\n"])
    assert guard.check_reply("write `return x + 1`") is None
    assert guard.check_reply("```\ndef f(y):\n    return y + 2\n```") is not None
