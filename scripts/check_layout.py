#!/usr/bin/env python3
"""Keeps the crate's module layout (`lib.rs`'s "Layout" section, issue #13) true.

    scripts/check_layout.py [ROOT]

ROOT defaults to the repository holding this script. The Rust sources under ROOT/src are
checked, on their code only: comments (`//`, `//!`, `///`, `/* */`, nested), string literals
(`"..."`, `b"..."`, raw `r"..."`, `r#"..."#`, ...) and character literals are blanked first by a
small lexer, so a mention in a doc comment or a string does not count.

Rules:
  1. `lambda_http` appears only under `src/http/` and in `src/main.rs` (anywhere in a file,
     tests included).
  2. `auth`, `reset` and `idempotency` do not depend on `config`: no `crate::config` path,
     including inside a grouped import (`use crate::{config::X, ...}`), through `super::`, or
     through a name `lib.rs` re-exports from `config` (`crate::Config`). Tests included.
  3. No cycle between top-level modules (`src/<name>.rs` or `src/<name>/`; `lib.rs`,
     `main.rs` and `src/bin/` are crate roots, not modules, and their edges are ignored).
     A -> B when code of A names `crate::B` (grouped imports too, to any depth of braces),
     `super::...::B` resolving to the crate root, or `crate::Name` where `lib.rs` has
     `pub use B::...::Name` (or a private `use`, which its child modules see too). Test code
     does not count (see below).
  4. No source file has more than 500 lines before its tests.

Test code: everything from the first `#[cfg(test)]` that gates a `mod` (`#[cfg(test)]`,
possibly other attributes, then `mod name {` or `mod name;`) to the end of the file; files
named `tests.rs`; files under a directory named `tests` or `testkit` inside `src/`. Rules 3
and 4 skip it; rules 1 and 2 do not (their violations in test code are marked so).

Output: one `path:line: message` line per violation and exit status 1, or the single line
`layout ok: N modules, no cycles` and exit status 0. Exit status 2 if ROOT/src is missing.
No dependencies beyond the standard library.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_LINES = 500
NO_CONFIG_MODULES = ("auth", "reset", "idempotency")
CONFIG_MODULE = "config"
TEST_DIRS = frozenset({"tests", "testkit"})
ROOT_FILES = frozenset({"lib.rs", "main.rs"})
MAX_CYCLES = 200


# --------------------------------------------------------------------------------------------
# Lexing: blank comments and literals, keeping every offset and newline where it was.


def _is_ident_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def _blank(segment: str) -> str:
    return "".join("\n" if ch == "\n" else " " for ch in segment)


def strip_code(text: str) -> str:
    """`text` with comments, string, byte-string, raw-string and char literals blanked.

    The result has the same length as `text` and its newlines in the same places, so
    offsets and line numbers carry over. Lifetimes and labels (`'a`, `'outer:`) are code.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "/" and nxt == "/":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(_blank(text[i:end]))
            i = end
        elif ch == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(_blank(text[i:j]))
            i = j
        elif ch == '"':
            j = _string_end(text, i + 1)
            out.append(_blank(text[i:j]))
            i = j
        elif ch == "'":
            j = _char_literal_end(text, i)
            if j is None:  # a lifetime or a label
                out.append(ch)
                i += 1
            else:
                out.append(_blank(text[i:j]))
                i = j
        elif _is_ident_char(ch):
            k = i
            while k < n and _is_ident_char(text[k]):
                k += 1
            word = text[i:k]
            after = text[k] if k < n else ""
            end = None
            if word in ("r", "br", "cr") and after in ('"', "#"):
                end = _raw_string_end(text, k)
            elif word in ("b", "c") and after == '"':
                end = _string_end(text, k + 1)
            if end is not None:
                out.append(_blank(text[i:end]))
                i = end
            else:  # `b'x'` continues as a char literal on the next turn
                out.append(word)
                i = k
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _string_end(text: str, j: int) -> int:
    """The offset just past the closing quote of a string whose body starts at `j`."""
    n = len(text)
    while j < n:
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    return n


def _raw_string_end(text: str, k: int) -> int | None:
    """Past the end of a raw string whose hashes or quote start at `k`; None if `r#ident`."""
    j = k
    while j < len(text) and text[j] == "#":
        j += 1
    if j >= len(text) or text[j] != '"':
        return None
    closing = '"' + "#" * (j - k)
    end = text.find(closing, j + 1)
    return len(text) if end < 0 else end + len(closing)


def _char_literal_end(text: str, i: int) -> int | None:
    """Past the end of the char literal opening at `i`, or None for a lifetime or label."""
    n = len(text)
    if i + 1 < n and text[i + 1] == "\\":
        end = text.find("'", i + 3)  # past the escaped character, so `'\''` works
        if 0 <= end <= i + 16 and "\n" not in text[i:end]:
            return end + 1
        return None
    if i + 2 < n and text[i + 2] == "'" and text[i + 1] != "\n":
        return i + 3
    return None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --------------------------------------------------------------------------------------------
# Test code: where it starts in a file.

CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
INNER_CFG_TEST = re.compile(r"#\s*!\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]")
ATTRIBUTE_START = re.compile(r"\s*#\s*\[")
MOD_DECLARATION = re.compile(r"\s*(?:pub\s*(?:\([^)]*\))?\s*)?mod\s+(?:r#)?\w+\s*[{;]")


def test_cutoff(code: str) -> int | None:
    """The offset where the file's test code starts (see the module doc), or None."""
    inner = INNER_CFG_TEST.search(code)
    if inner and _brace_depth(code, inner.start()) == 0:
        return 0
    for match in CFG_TEST.finditer(code):
        pos = match.end()
        while True:  # skip further attributes, `#[allow(..)]` and the like
            attribute = ATTRIBUTE_START.match(code, pos)
            if not attribute:
                break
            pos = _bracket_end(code, attribute.end() - 1)
        if MOD_DECLARATION.match(code, pos):
            return match.start()
    return None


def _bracket_end(code: str, open_at: int) -> int:
    """Past the `]` matching the `[` at `open_at`."""
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "[":
            depth += 1
        elif code[j] == "]":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def _brace_depth(code: str, offset: int) -> int:
    return code.count("{", 0, offset) - code.count("}", 0, offset)


def is_test_file(rel: Path) -> bool:
    """`rel` is relative to src/."""
    return rel.name == "tests.rs" or any(part in TEST_DIRS for part in rel.parts[:-1])


# --------------------------------------------------------------------------------------------
# Paths: `crate::...`, `super::...`, and the use trees after them.

TOKEN = re.compile(r"\s*(::|\{|\}|,|\*|(?:r#)?[^\W\d]\w*)")
PATH_START = re.compile(r"(?<![\w$])(\$?crate|super)\s*::")
SUPER_STEP = re.compile(r"\s*super\s*::")
INLINE_MOD = re.compile(r"\bmod\s+(?:r#)?(\w+)\s*\{")
LIB_USE = re.compile(r"\b(?:pub\s*(?:\([^)]*\))?\s*)?use\s+")

Leaf = tuple[list[tuple[str, int]], "str | None"]  # (segment, offset)s and an `as` alias


def _token(code: str, pos: int) -> tuple[str | None, int, int]:
    match = TOKEN.match(code, pos)
    if not match:
        return None, pos, pos
    return match.group(1), match.start(1), match.end()


def parse_use_tree(code: str, pos: int) -> tuple[list[Leaf], int]:
    """The leaves of the use tree (or plain path) starting at `pos`; stops at what isn't one.

    `a::{b::{c, d}, e as f}` gives `a::b::c`, `a::b::d` and `a::e` (alias `f`); a path in an
    expression, `a::B::new(..)`, gives `a::B::new`.
    """
    tok, start, pos = _token(code, pos)
    if tok == "{":
        leaves: list[Leaf] = []
        while True:
            tok, _, after = _token(code, pos)
            if tok == "}":
                return leaves, after
            if tok is None:
                return leaves, pos
            sub, pos = parse_use_tree(code, pos)
            leaves.extend(sub)
            tok, _, after = _token(code, pos)
            if tok == ",":
                pos = after
            elif tok == "}":
                return leaves, after
            else:
                return leaves, pos
    if tok == "*":
        return [([("*", start)], None)], pos
    if tok is None or not (tok[0].isalpha() or tok[0] == "_"):
        return [], start
    segments = [(tok.removeprefix("r#"), start)]
    while True:
        tok, _, after = _token(code, pos)
        if tok != "::":
            break
        tok, start, after2 = _token(code, after)
        if tok in ("{", "*"):
            sub, pos = parse_use_tree(code, after)
            return [(segments + leaf, alias) for leaf, alias in sub], pos
        if tok is None or not (tok[0].isalpha() or tok[0] == "_"):
            break  # `Vec::<u8>`, turbofish and the like: the path ends here
        segments.append((tok.removeprefix("r#"), start))
        pos = after2
    alias = None
    tok, _, after = _token(code, pos)
    if tok == "as":
        tok, _, after2 = _token(code, after)
        if tok and tok not in ("{", "}", ",", "*", "::"):
            alias, pos = tok, after2
    return [(segments, alias)], pos


@dataclass
class Reference:
    """Code naming a top-level module."""

    module: str
    offset: int
    spelled: str  # how the code reached it, for the message


def module_path_of(rel: Path) -> list[str]:
    """The module path of the file at `rel` (relative to src/); [] for a crate root."""
    parts = list(rel.parts)
    if len(parts) == 1 and parts[0] in ROOT_FILES or parts[0] == "bin":
        return []
    parts[-1] = parts[-1].removesuffix(".rs")
    if parts[-1] == "mod":
        parts.pop()
    return parts


def inline_modules(code: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every `mod name { ... }` block in the file."""
    blocks = []
    for match in INLINE_MOD.finditer(code):
        open_at = match.end() - 1
        depth, end = 0, len(code)
        for j in range(open_at, len(code)):
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    end = j
                    break
        blocks.append((open_at, end, match.group(1)))
    return blocks


def references(
    code: str,
    file_path: list[str],
    modules: set[str],
    reexports: dict[str, str],
) -> list[Reference]:
    """Every place `code` names a top-level module: `crate::m`, `super::..::m`, re-exports."""
    blocks = inline_modules(code)
    found: list[Reference] = []
    resume = 0
    for match in PATH_START.finditer(code):
        if match.start() < resume:
            continue  # the second `super` of `super::super::`
        pos = match.end()
        if match.group(1) == "super":
            here = file_path + [name for start, end, name in blocks if start < match.start() < end]
            ups = 1
            while step := SUPER_STEP.match(code, pos):
                ups, pos = ups + 1, step.end()
            if ups > len(here):
                continue
            base = here[: len(here) - ups]
        else:
            base = []
        leaves, resume = parse_use_tree(code, pos)
        for segments, _alias in leaves:
            named = [(name, offset) for name, offset in segments if name != "self"]
            if base:
                if base[0] in modules:
                    found.append(Reference(base[0], match.start(), "super::"))
                continue
            if not named or named[0][0] in ("*", "super", "crate"):
                continue
            name, offset = named[0]
            if name in modules:
                found.append(Reference(name, offset, f"crate::{name}"))
            elif name in reexports:
                owner = reexports[name]
                spelled = f"crate::{name} (re-exported from {owner})"
                found.append(Reference(owner, offset, spelled))
    return found


def lib_reexports(code: str, modules: set[str]) -> dict[str, str]:
    """Names `lib.rs` imports from a module (`pub use` or not: child modules see both).

    `pub use config::Config` gives Config -> config; globs are not followed.
    """
    names: dict[str, str] = {}
    for match in LIB_USE.finditer(code):
        leaves, _ = parse_use_tree(code, match.end())
        for segments, alias in leaves:
            path = [name for name, _ in segments]
            if path[:1] in (["crate"], ["self"]):
                path = path[1:]
            if len(path) < 2 or path[0] not in modules or path[-1] in ("*", "self"):
                continue
            names.setdefault(alias or path[-1], path[0])
    return names


# --------------------------------------------------------------------------------------------
# The checks.


@dataclass
class SourceFile:
    rel: Path  # relative to src/
    display: str  # relative to ROOT, with forward slashes
    text: str
    code: str
    cutoff: int | None  # offset where test code starts
    module_path: list[str] = field(default_factory=list)

    @property
    def is_root(self) -> bool:
        return not self.module_path

    @property
    def is_test_file(self) -> bool:
        return is_test_file(self.rel)

    @property
    def top_module(self) -> str | None:
        return self.module_path[0] if self.module_path else None

    def production_code(self) -> str:
        """The code before the tests; test files have none."""
        if self.is_test_file:
            return ""
        return self.code if self.cutoff is None else self.code[: self.cutoff]

    def in_tests(self, offset: int) -> bool:
        return self.is_test_file or (self.cutoff is not None and offset >= self.cutoff)


def load(src: Path, root: Path) -> list[SourceFile]:
    files = []
    for path in sorted(src.rglob("*.rs")):
        if not path.is_file():
            continue
        rel = path.relative_to(src)
        text = path.read_text(encoding="utf-8", errors="replace")
        code = strip_code(text)
        files.append(
            SourceFile(
                rel=rel,
                display=path.relative_to(root).as_posix(),
                text=text,
                code=code,
                cutoff=test_cutoff(code),
                module_path=module_path_of(rel),
            )
        )
    return files


def top_level_modules(files: list[SourceFile]) -> set[str]:
    return {f.top_module for f in files if f.top_module}


LAMBDA_HTTP = re.compile(r"(?<![\w$])lambda_http\b")


def check_lambda_http(files: list[SourceFile]) -> list[str]:
    out = []
    for f in files:
        if f.rel.parts[0] == "http" and len(f.rel.parts) > 1 or f.rel.as_posix() == "main.rs":
            continue
        seen = set()
        for match in LAMBDA_HTTP.finditer(f.code):
            line = line_of(f.code, match.start())
            if line in seen:
                continue
            seen.add(line)
            where = " (test code)" if f.in_tests(match.start()) else ""
            out.append(
                f"{f.display}:{line}: lambda_http outside src/http/ and src/main.rs{where}"
            )
    return out


def check_config_imports(
    files: list[SourceFile], modules: set[str], reexports: dict[str, str]
) -> list[str]:
    out = []
    for f in files:
        if f.top_module not in NO_CONFIG_MODULES:
            continue
        seen = set()
        for ref in references(f.code, f.module_path, modules, reexports):
            if ref.module != CONFIG_MODULE:
                continue
            line = line_of(f.code, ref.offset)
            if line in seen:
                continue
            seen.add(line)
            where = " (test code)" if f.in_tests(ref.offset) else ""
            out.append(
                f"{f.display}:{line}: {f.top_module} depends on config via {ref.spelled}"
                f"{where}; auth, reset and idempotency must not import crate::config"
            )
    return out


Graph = dict[str, dict[str, tuple[str, int]]]  # A -> {B: (path, line) of the first A -> B}


def module_graph(
    files: list[SourceFile], modules: set[str], reexports: dict[str, str]
) -> Graph:
    """A -> {B: (file, line) of the first place A's production code names B}."""
    graph: Graph = {m: {} for m in modules}
    for f in files:
        if f.is_root or f.is_test_file:
            continue
        code = f.production_code()
        for ref in references(code, f.module_path, modules, reexports):
            if ref.module == f.top_module:
                continue
            evidence = (f.display, line_of(code, ref.offset))
            known = graph[f.top_module].get(ref.module)
            if known is None or evidence < known:
                graph[f.top_module][ref.module] = evidence
    return graph


def elementary_cycles(graph: Graph, limit: int) -> tuple[list[list[str]], bool]:
    """Every simple cycle, each once, starting from its smallest module; True if cut at `limit`."""
    cycles: list[list[str]] = []
    nodes = sorted(graph)

    def walk(start: str, path: list[str], on_path: set[str]) -> bool:
        for nxt in sorted(graph[path[-1]]):
            if nxt == start:
                cycles.append(path + [start])
                if len(cycles) >= limit:
                    return True
            elif nxt > start and nxt not in on_path:
                on_path.add(nxt)
                path.append(nxt)
                if walk(start, path, on_path):
                    return True
                path.pop()
                on_path.discard(nxt)
        return False

    for start in nodes:
        if walk(start, [start], {start}):
            return cycles, True
    return cycles, False


def check_cycles(graph: Graph) -> list[str]:
    cycles, truncated = elementary_cycles(graph, MAX_CYCLES)
    out = []
    for cycle in cycles:
        steps = list(zip(cycle, cycle[1:]))
        evidence = [graph[a][b] for a, b in steps]
        where = "; ".join(
            f"{a} -> {b} at {path}:{line}" for (a, b), (path, line) in zip(steps, evidence)
        )
        path, line = evidence[0]
        out.append(f"{path}:{line}: module cycle {' -> '.join(cycle)} ({where})")
    if truncated:
        out.append(f"src/lib.rs:1: more than {MAX_CYCLES} module cycles; only the first are listed")
    return out


def check_file_lengths(files: list[SourceFile]) -> list[str]:
    out = []
    for f in files:
        if f.is_test_file:
            continue
        if f.cutoff is None:
            lines = f.text.count("\n") + (0 if f.text.endswith("\n") or not f.text else 1)
            what = "lines"
        else:
            lines = line_of(f.code, f.cutoff) - 1
            what = "lines before its tests"
        if lines > MAX_LINES:
            out.append(f"{f.display}:1: {lines} {what}, over the limit of {MAX_LINES}")
    return out


def check(root: Path) -> tuple[list[str], int]:
    """The violations under `root`/src, and how many top-level modules there are."""
    src = root / "src"
    files = load(src, root)
    modules = top_level_modules(files)
    lib = next((f for f in files if f.rel.as_posix() == "lib.rs"), None)
    reexports = lib_reexports(lib.code, modules) if lib else {}
    violations = (
        check_lambda_http(files)
        + check_config_imports(files, modules, reexports)
        + check_cycles(module_graph(files, modules, reexports))
        + check_file_lengths(files)
    )
    return violations, len(modules)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check the crate's module layout (issue #13).",
    )
    parser.add_argument(
        "root",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the repository root holding src/ (default: this script's repository)",
    )
    args = parser.parse_args(argv)
    if not (args.root / "src").is_dir():
        print(f"check_layout: no src/ directory under {args.root}", file=sys.stderr)
        return 2
    violations, count = check(args.root)
    if violations:
        print("\n".join(violations))
        return 1
    print(f"layout ok: {count} modules, no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
