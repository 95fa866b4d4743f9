"""Does a tutor reply give the solution away? Checked before the learner sees any of it.

Two measures against an assignment's solution cells (from the release's source version):

- exact lines: a non-trivial solution line (at least MIN_LINE_TOKENS code tokens) that
  appears in the reply, whitespace ignored (so `return [i*i for i in x]` matches however
  it is spaced, also inside a sentence);
- token similarity: the code is tokenized (Python's tokenize, a regular expression when
  the text is not Python) and normalised: identifiers become ID, numbers NUM, strings STR,
  comments and layout dropped, keywords, builtins and operators kept. The share of the
  solution's token n-grams (N-grams) that also occur in the reply is its containment; at
  CONTAINMENT or more the reply is too close, whatever the variables are called and
  however it is formatted.

What does not count: lines and n-grams that are also in the student version of the cell
(the starter code the learner was given) or in the learner's own code (they wrote it; the
tutor may quote it back), and solutions too short to tell apart from ordinary code
(fewer than MIN_NGRAMS n-grams left: then only the exact lines apply).

Where it can still fail: a reply that gives the same algorithm in another shape (a loop
for a comprehension, other builtins), or in prose ("square each number from one to n and
collect them"), passes; so does a solution split over several replies of a conversation
(each reply is checked alone, against the learner's code as it was sent).
"""

from __future__ import annotations

import builtins
import io
import keyword
import re
import token as tokens
import tokenize
from dataclasses import dataclass

N = 4
CONTAINMENT = 0.6
MIN_NGRAMS = 4
MIN_LINE_TOKENS = 5

_KEEP_NAMES = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
_MARKERS = re.compile(r"^\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)", re.I)
_FALLBACK = re.compile(
    r"""(?P<comment>\#[^\n]*)|(?P<string>[rbuf]{0,2}("[^"\n]*"|'[^'\n]*'))|(?P<number>\d[\w.]*)"""
    r"""|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@<>=!]=|\S)""")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _norm_name(name: str) -> str:
    return name if name in _KEEP_NAMES else "ID"


def code_tokens(text: str) -> list[str]:
    """The normalised tokens of text (Python if it parses as tokens, else a regex)."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tok.type
            if kind == tokens.NAME:
                out.append(_norm_name(tok.string))
            elif kind == tokens.NUMBER:
                out.append("NUM")
            elif kind == tokens.STRING or tok.type in _FSTRING:
                if not out or out[-1] != "STR":
                    out.append("STR")
            elif kind == tokens.OP:
                out.append(tok.string)
            elif kind == tokens.ERRORTOKEN and tok.string.strip():
                raise tokenize.TokenError("not Python")
        return out
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    out = []
    for m in _FALLBACK.finditer(text):
        if m.group("comment"):
            continue
        if m.group("string"):
            out.append("STR")
        elif m.group("number"):
            out.append("NUM")
        elif m.group("name"):
            out.append(_norm_name(m.group("name")))
        else:
            out.append(m.group("op"))
    return out


_FSTRING = {getattr(tokens, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
            if hasattr(tokens, n)}


def _ngrams(toks: list[str]) -> set[tuple[str, ...]]:
    return {tuple(toks[i:i + N]) for i in range(len(toks) - N + 1)}


def _squash(line: str) -> str:
    return re.sub(r"\s+", "", line)


@dataclass(frozen=True)
class Violation:
    """Why a reply is too close: for the log and the instructors' record, never the model."""

    kind: str  # "line" | "similarity"
    detail: str
    score: float = 1.0


class SolutionGuard:
    """The solution cells of an assignment, ready to check replies against."""

    def __init__(self, solutions: list[str], allowed: list[str]) -> None:
        allowed_lines = {_squash(line) for text in allowed for line in text.splitlines()}
        allowed_grams: set[tuple[str, ...]] = set()
        for text in allowed:
            allowed_grams |= _ngrams(code_tokens(text))
        self.lines: list[str] = []
        self.solution_grams: list[set[tuple[str, ...]]] = []
        for text in solutions:
            for line in text.splitlines():
                squashed = _squash(line)
                if (not squashed or _MARKERS.match(line) or squashed in allowed_lines
                        or squashed.startswith("#")):
                    continue
                if len(code_tokens(line)) >= MIN_LINE_TOKENS:
                    self.lines.append(squashed)
            kept = [line for line in text.splitlines() if not _MARKERS.match(line)]
            grams = _ngrams(code_tokens("\n".join(kept))) - allowed_grams
            if len(grams) >= MIN_NGRAMS:
                self.solution_grams.append(grams)
        self.lines = sorted(set(self.lines), key=len, reverse=True)

    def check_line(self, line: str) -> Violation | None:
        """A solution line inside this line of the reply (whitespace ignored)."""
        squashed = _squash(line).replace("`", "")
        if not squashed:
            return None
        for sol in self.lines:
            if sol in squashed:
                return Violation("line", f"a solution line: {sol[:60]}")
        return None

    def check_code(self, text: str) -> Violation | None:
        """Exact lines, then token containment of each solution cell in text."""
        for line in text.splitlines():
            found = self.check_line(line)
            if found:
                return found
        grams = _ngrams(code_tokens(text))
        if not grams:
            return None
        for sol in self.solution_grams:
            share = len(sol & grams) / len(sol)
            if share >= CONTAINMENT:
                return Violation("similarity", f"{share:.0%} of a solution's code tokens",
                                 share)
        return None

    def check_reply(self, text: str) -> Violation | None:
        """The whole reply: its code blocks together, its prose, and both together."""
        code, prose = split_code(text)
        return self.check_code(code) or self.check_code(prose) or self.check_code(text)


def split_code(text: str) -> tuple[str, str]:
    """(the fenced code blocks' contents, the rest), each joined by newlines."""
    code, prose, inside = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            inside = not inside
            continue
        (code if inside else prose).append(line)
    return "\n".join(code), "\n".join(prose)


class ReplyGate:
    """Lets a streamed reply through line by line, as far as it is safe.

    Prose lines go out when they are complete and pass the exact-line check and the
    similarity check of all prose so far (so code written without fences is caught before
    the line that completes it). Fenced code blocks are held until the fence closes, then
    checked whole (and with the code before them). `feed` returns the text that may be
    shown now; `finish` the rest; both raise LeakFound.
    """

    def __init__(self, guard: SolutionGuard) -> None:
        self.guard = guard
        self.pending = ""
        self.block: list[str] | None = None  # lines of an open code block
        self.prose: list[str] = []
        self.code: list[str] = []
        self.shown: list[str] = []

    def feed(self, piece: str) -> str:
        self.pending += piece
        out = []
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            out.append(self._line(line + "\n"))
        return "".join(out)

    def finish(self) -> str:
        out = self._line(self.pending) if self.pending else ""
        self.pending = ""
        if self.block is not None:  # an unclosed block: check and show it all
            out += self._close_block()
        whole = "".join(self.shown)
        found = self.guard.check_reply(whole)
        if found:
            raise LeakFound(found)
        return out

    def _line(self, line: str) -> str:
        if _FENCE.match(line):
            if self.block is None:
                self.block = [line]
                return ""
            self.block.append(line)
            return self._close_block()
        if self.block is not None:
            self.block.append(line)
            return ""
        found = self.guard.check_line(line)
        self.prose.append(line)
        found = found or self.guard.check_code("".join(self.prose))
        if found:
            raise LeakFound(found)
        self.shown.append(line)
        return line

    def _close_block(self) -> str:
        lines, self.block = self.block or [], None
        body = "".join(lines[1:-1] if len(lines) > 1 and _FENCE.match(lines[-1]) else lines[1:])
        found = self.guard.check_code(body) or self.guard.check_code(
            "".join(self.code) + body)
        if found:
            raise LeakFound(found)
        self.code.append(body)
        text = "".join(lines)
        self.shown.append(text)
        return text


class LeakFound(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.detail)
        self.violation = violation
