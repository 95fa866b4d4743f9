"""Runnable Python examples for tutorials, drafted by the AI for the section an editor is in.

The example goes back to the page editor, which inserts it as a code block after that section's
text: unsaved until the editor saves (a draft revision), live only once a person publishes.
The code is checked to parse (ast.parse) before it is offered; it is never run on the site.
"""

from __future__ import annotations

import ast
import re

from .client import AIDraftingError, complete_json

MAX_CODE = 6000

CODE_EXAMPLE_SYSTEM = (
    "You write code examples for tutorials on Learning Studio, a site that teaches Python "
    "with Jupyter notebooks. Write one short, complete, runnable Python 3 example (at most 30 "
    "lines) that shows the topic you are given: standard library only unless the topic names "
    "a library, no input(), no network, no writing files, print() what a learner should see, "
    "and brief comments that explain the idea. Answer with one JSON object only: "
    '{"code": "<the Python source>"}.'
)


class CodeExampleInvalid(AIDraftingError):
    """The AI's code is not valid Python; nothing is inserted."""


def _unfenced(code: str) -> str:
    """The code without a Markdown fence around it (models add one even in JSON)."""
    match = re.fullmatch(r"\s*```[a-zA-Z0-9_+-]*\n(.*?)\n?```\s*", code, flags=re.DOTALL)
    return match.group(1) if match else code


def check_python(code: str) -> None:
    """Raise CodeExampleInvalid with the line and message if `code` does not parse."""
    try:
        ast.parse(code)
    except SyntaxError as error:
        raise CodeExampleInvalid(
            f"The AI's example is not valid Python (line {error.lineno}: {error.msg}). "
            "Nothing was inserted; try again, or write the example yourself."
        ) from error
    except ValueError as error:  # e.g. a NUL byte in the source
        raise CodeExampleInvalid(
            f"The AI's example is not valid Python ({error}). Nothing was inserted; try again."
        ) from error


def draft_code_example(topic: str, user, *, page_title: str = "", section: str = "",
                       context: str = "") -> str:
    """Python source for `topic` (the text the editor selected or is writing), checked to
    parse."""
    data = complete_json(
        CODE_EXAMPLE_SYSTEM,
        f"Tutorial: {page_title or '(no title yet)'}\n"
        f"Section: {section or '(none)'}\n"
        f"What the example should show:\n{topic}",
        context=f"user={user} {context} action=code_example",
    )
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise AIDraftingError("The AI answer has no 'code' text. Nothing was inserted; try again.")
    code = _unfenced(code).strip("\n")
    if len(code) > MAX_CODE:
        raise AIDraftingError(
            f"The AI's example is {len(code)} characters long, more than a tutorial example "
            f"should be ({MAX_CODE}). Nothing was inserted; ask for something smaller."
        )
    check_python(code)
    return code + "\n"
