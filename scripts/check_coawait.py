#!/usr/bin/python3
"""Finds `co_await` where g++ 12 may build a broken coroutine frame (docs/ARCHITECTURE.md,
"g++ 12 and co_await as a condition"): inside the condition of an if, while, for or switch, in a
larger expression such as `!co_await x`, `a && co_await x` or `(ec = co_await x)`, and inside a
GoogleTest assertion macro (EXPECT_FALSE(co_await x) expands to an if whose condition builds an
AssertionResult). The safe forms: assign to a local first (`auto ec = co_await x; if (ec)`), or
declare it in the condition (`if (auto ec = co_await x)`).

Usage: check_coawait.py [DIR_OR_FILE...]   (default: src apps tests examples)
Prints file:line: reason for each finding; exits 1 if there is one.
"""

import pathlib
import re
import sys

SUFFIXES = {".cpp", ".hpp", ".h", ".cc", ".ipp"}
DEFAULT_ROOTS = ["src", "apps", "tests", "examples"]

CONDITION_KEYWORD = re.compile(r"\b(if|while|for|switch)\s*(?:constexpr\s*)?\(")
ASSERTION_MACRO = re.compile(r"\b(?:EXPECT|ASSERT)_[A-Z_]+\s*\(")
# A co_await whose result is an operand: of `!`, `&&`, `||`, `?`, or of an assignment that is
# itself in parentheses (`(ec = co_await x)`, the old way to test what was assigned).
IN_EXPRESSION = re.compile(r"(?:!|&&|\|\||\?|\(\s*[\w.\->\[\]]+\s*=)\s*\(?\s*co_await\b")
# `Type name = co_await operand` (with an optional init-statement before it): a declaration.
DECLARATION = re.compile(r"^\s*(?:const\s+)?[\w:<>,]+[\s&*]+\w+\s*=\s*co_await\b")


def strip_comments_and_strings(text: str) -> str:
    """Blanks comments, string and character literals, keeping every newline (line numbers)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
        elif c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
            out.append(c)  # a digit separator (420'000), not a character literal
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_paren(text: str, open_index: int) -> int:
    depth = 0
    for j in range(open_index, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def split_top_level(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for j, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:j])
            start = j + 1
    parts.append(text[start:])
    return parts


def findings(text: str):
    code = strip_comments_and_strings(text)
    line_of = lambda pos: code.count("\n", 0, pos) + 1  # noqa: E731
    found = {}

    for m in CONDITION_KEYWORD.finditer(code):
        open_index = m.end() - 1
        inside = code[open_index + 1:matching_paren(code, open_index)]
        if "co_await" not in inside:
            continue
        parts = split_top_level(inside, ";")
        if m.group(1) == "for" and len(parts) == 1:
            continue  # range-for: `for (auto& x : co_await y)` declares what it awaits
        if all("co_await" not in p or DECLARATION.match(p) for p in parts):
            continue
        found.setdefault(line_of(m.start()), f"co_await in the condition of `{m.group(1)}`")

    for m in ASSERTION_MACRO.finditer(code):
        open_index = m.end() - 1
        inside = code[open_index + 1:matching_paren(code, open_index)]
        if "co_await" in inside:
            found.setdefault(line_of(m.start()), "co_await inside a GoogleTest assertion")

    for m in IN_EXPRESSION.finditer(code):
        found.setdefault(line_of(m.start()), "co_await as an operand of a larger expression")

    return sorted(found.items())


def sources(roots):
    for root in roots:
        p = pathlib.Path(root)
        if p.is_file():
            yield p
        elif p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())


def main(argv) -> int:
    roots = argv[1:] or DEFAULT_ROOTS
    bad = 0
    for path in sources(roots):
        for line, reason in findings(path.read_text(errors="replace")):
            print(f"{path}:{line}: {reason}; assign it to a local first (g++ 12)")
            bad += 1
    if bad:
        print(f"{bad} co_await form(s) that g++ 12 can miscompile (docs/ARCHITECTURE.md)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
