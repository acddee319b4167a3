#!/usr/bin/env python3
"""Tests of scripts/check_layout.py on small fake `src/` trees.

    .cache/venv/bin/python scripts/test_check_layout.py

Standard library only (unittest). Each rule is shown to fire, and not to fire on comments,
strings and test code.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import check_layout  # noqa: E402

SCRIPT = HERE / "check_layout.py"

# A clean crate in the shape issue #13 asks for.
CLEAN = {
    "lib.rs": """
        //! Layout: http -> app -> reset; config builds the settings.
        pub mod app;
        pub mod auth;
        pub mod config;
        pub mod error;
        pub mod http;
        pub mod reset;
        pub use config::Config;
        pub use error::Error;
    """,
    "main.rs": """
        use lambda_http::{lambda_runtime, service_fn};
        use resetgate::config::Config;
        fn main() {}
    """,
    "error.rs": "pub enum Error {}\n",
    "config.rs": """
        use crate::{error::Error, reset::Settings};
        pub struct Config;
    """,
    "auth.rs": """
        use crate::error::Error;
        pub struct Caller;
    """,
    "app.rs": """
        use crate::{auth::Caller, reset};
    """,
    "reset/mod.rs": """
        mod cognito;
        use crate::error::Error;
        pub struct Settings;
    """,
    "reset/cognito.rs": """
        use super::Settings;
        use crate::error::Error;
    """,
    "http/mod.rs": """
        mod handler;
    """,
    "http/handler.rs": """
        use lambda_http::{Context, http::HeaderName};
        use crate::{app, Config};
        fn f() { let _ = lambda_http::request::from_str(""); }
    """,
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / "src" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


class TreeCase(unittest.TestCase):
    """A temporary repository root per test."""

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def violations(self, files: dict[str, str], base: dict[str, str] | None = CLEAN) -> list[str]:
        write_tree(self.root, {**(base or {}), **files})
        found, _ = check_layout.check(self.root)
        return found

    def assertOnly(self, found: list[str], *expected: str) -> None:
        """Each violation starts with one of `expected` (`path:line: ...`), and each is there."""
        self.assertEqual(len(found), len(expected), "\n".join(found))
        for prefix in expected:
            self.assertTrue(any(v.startswith(prefix) for v in found), f"{prefix!r} not in {found}")


class CleanTree(TreeCase):
    def test_clean_tree_is_ok(self) -> None:
        self.assertEqual(self.violations({}), [])

    def test_command_line_clean_prints_one_summary_line(self) -> None:
        write_tree(self.root, CLEAN)
        run = subprocess.run(
            [sys.executable, str(SCRIPT), str(self.root)], capture_output=True, text=True
        )
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        # app, auth, config, error, http, reset
        self.assertEqual(run.stdout, "layout ok: 6 modules, no cycles\n")
        self.assertEqual(run.stderr, "")

    def test_command_line_violations_exit_1_one_line_each(self) -> None:
        write_tree(
            self.root,
            {**CLEAN, "auth.rs": "use lambda_http::Request;\nuse crate::config::Config;\n"},
        )
        run = subprocess.run(
            [sys.executable, str(SCRIPT), str(self.root)], capture_output=True, text=True
        )
        self.assertEqual(run.returncode, 1)
        lines = run.stdout.splitlines()
        self.assertEqual(len(lines), 2, run.stdout)
        self.assertTrue(lines[0].startswith("src/auth.rs:1: lambda_http"), lines)
        self.assertTrue(lines[1].startswith("src/auth.rs:2: auth depends on config"), lines)

    def test_missing_src_exits_2(self) -> None:
        run = subprocess.run(
            [sys.executable, str(SCRIPT), str(self.root)], capture_output=True, text=True
        )
        self.assertEqual(run.returncode, 2)
        self.assertEqual(run.stdout, "")


class LambdaHttp(TreeCase):
    def test_use_outside_http_fires(self) -> None:
        found = self.violations({"auth.rs": "use crate::error::Error;\nuse lambda_http::request::RequestContext;\n"})
        self.assertOnly(found, "src/auth.rs:2: lambda_http outside src/http/ and src/main.rs")

    def test_path_in_expression_fires(self) -> None:
        found = self.violations({"app.rs": "fn f() {\n    let r = lambda_http::request::from_str(x);\n}\n"})
        self.assertOnly(found, "src/app.rs:2: lambda_http")

    def test_in_lib_rs_fires(self) -> None:
        found = self.violations({"lib.rs": CLEAN["lib.rs"] + "pub use lambda_http::Context;\n"})
        self.assertOnly(found, "src/lib.rs:10: lambda_http")

    def test_in_test_module_fires_and_is_marked(self) -> None:
        found = self.violations(
            {"auth.rs": "pub struct Caller;\n#[cfg(test)]\nmod tests {\n    use lambda_http::Context;\n}\n"}
        )
        self.assertOnly(found, "src/auth.rs:4: lambda_http")
        self.assertIn("(test code)", found[0])

    def test_http_and_main_are_allowed(self) -> None:
        found = self.violations(
            {"http/deep/event.rs": "use lambda_http::Body;\n", "http/mod.rs": "mod deep;\nuse lambda_http::Body;\n"}
        )
        self.assertEqual(found, [])

    def test_src_http_rs_sibling_is_not_http_dir(self) -> None:
        # `src/https.rs` is not under `src/http/`.
        found = self.violations({"https.rs": "use lambda_http::Body;\n"})
        self.assertOnly(found, "src/https.rs:1: lambda_http")

    def test_comments_and_strings_do_not_fire(self) -> None:
        found = self.violations(
            {
                "auth.rs": r'''
                    //! The caller, without `lambda_http`.
                    /// Not lambda_http::request::RequestContext.
                    // use lambda_http::Context;
                    /* use lambda_http::Context;
                       /* nested lambda_http */ still a comment: lambda_http */
                    const A: &str = "lambda_http::Context";
                    const B: &str = r#"a "quoted" lambda_http"#;
                    const B2: &str = r#"one " lambda_http"#;
                    const B3: &str = r"C:\"; use crate::error::Error; const B4: &str = r"lambda_http";
                    const C: &[u8] = b"lambda_http";
                    const D: &str = "escaped \" lambda_http";
                    #[doc = "lambda_http"]
                    pub struct Caller;
                ''',
            }
        )
        self.assertEqual(found, [])

    def test_similar_identifiers_do_not_fire(self) -> None:
        found = self.violations({"auth.rs": "fn f(my_lambda_http: u8, lambda_https: u8) {}\n"})
        self.assertEqual(found, [])


class ConfigImports(TreeCase):
    def test_plain_import_fires_in_each_protected_module(self) -> None:
        found = self.violations(
            {
                "auth.rs": "use crate::config::TokenPolicy;\n",
                "reset/cognito.rs": "use super::Settings;\nuse crate::config::Backend;\n",
                "idempotency/mod.rs": "mod store;\n",
                "idempotency/store.rs": "fn f(l: crate::config::RateLimits) {}\n",
            }
        )
        self.assertOnly(
            found,
            "src/auth.rs:1: auth depends on config",
            "src/reset/cognito.rs:2: reset depends on config",
            "src/idempotency/store.rs:1: idempotency depends on config",
            # config builds reset's settings (CLEAN), so reset -> config closes a cycle too
            "src/config.rs:1: module cycle config -> reset -> config",
        )

    def test_grouped_import_on_one_line_fires(self) -> None:
        found = self.violations({"auth.rs": "use crate::{config::TargetConfig, error::Error};\n"})
        self.assertOnly(found, "src/auth.rs:1: auth depends on config")

    def test_grouped_import_over_lines_fires_at_the_config_line(self) -> None:
        found = self.violations(
            {"reset/mod.rs": "use crate::{\n    error::Error,\n    config,\n};\npub struct Settings;\n"}
        )
        self.assertOnly(
            found,
            "src/reset/mod.rs:3: reset depends on config",
            "src/config.rs:1: module cycle config -> reset -> config",
        )

    def test_grouped_import_nested_braces_fires(self) -> None:
        found = self.violations(
            {"auth.rs": "use crate::{error::{self, Error}, config::{self, Backend::{Cognito}}};\n"}
        )
        self.assertOnly(found, "src/auth.rs:1: auth depends on config")

    def test_super_super_from_a_backend_fires(self) -> None:
        found = self.violations({"reset/cognito.rs": "use super::super::config::Backend;\n"})
        self.assertOnly(
            found,
            "src/reset/cognito.rs:1: reset depends on config",
            "src/config.rs:1: module cycle config -> reset -> config "
            "(config -> reset at src/config.rs:1; reset -> config at src/reset/cognito.rs:1)",
        )

    def test_super_from_a_direct_child_fires(self) -> None:
        found = self.violations({"auth.rs": "use super::{error::Error, config::TokenPolicy};\n"})
        self.assertOnly(found, "src/auth.rs:1: auth depends on config")

    def test_reexport_from_lib_fires(self) -> None:
        # lib.rs has `pub use config::Config`.
        found = self.violations({"auth.rs": "use crate::Config;\n"})
        self.assertOnly(found, "src/auth.rs:1: auth depends on config via crate::Config (re-exported from config)")

    def test_in_test_module_fires_and_is_marked(self) -> None:
        found = self.violations(
            {"auth.rs": "pub struct Caller;\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::config::Backend;\n}\n"}
        )
        self.assertOnly(found, "src/auth.rs:6: auth depends on config via crate::config (test code)")

    def test_other_modules_may_import_config(self) -> None:
        found = self.violations(
            {
                "logging.rs": "use crate::config::Level;\n",
                "http/handler.rs": "use crate::{config::{Config, TargetConfig}, app};\n",
                "app.rs": "use crate::{auth::Caller, config::Config};\n",
            }
        )
        self.assertEqual(found, [])

    def test_comments_strings_and_similar_names_do_not_fire(self) -> None:
        found = self.violations(
            {
                "auth.rs": r'''
                    //! Nothing from [`crate::config`] here.
                    /// See `crate::config::TokenPolicy`.
                    // use crate::config::TokenPolicy;
                    /* use crate::{config::X}; */
                    const A: &str = "crate::config";
                    const B: &str = r#"use crate::{config::X}"#;
                    const Q: char = '"';
                    const E: &str = "\"crate::config\"";
                    use crate::configuration::X;
                    use crate::error::config::Y;
                    use self::config::Z;
                    fn f<'a>(x: &'a str) -> &'a str { x }
                ''',
            }
        )
        self.assertEqual(found, [])

    def test_char_literal_quote_does_not_hide_code(self) -> None:
        # A lexer that took `'"'` for the start of a string would miss the import.
        found = self.violations({"auth.rs": "const Q: char = '\"';\nuse crate::config::X;\nconst R: char = '\\'';\nuse crate::{config};\n"})
        self.assertOnly(found, "src/auth.rs:2: auth depends on config", "src/auth.rs:4: auth depends on config")

    def test_super_in_an_inline_module_stays_inside_the_file(self) -> None:
        # `super::config` in `auth.rs`'s `mod inner` is `auth::config`, not the crate's.
        found = self.violations({"auth.rs": "mod config {}\nmod inner {\n    use super::config;\n}\n"})
        self.assertEqual(found, [])


# The cycle tests start from a crate with no edges at all.
MINI = {
    "lib.rs": "pub use config::Config;\npub use error::Error;\n",
    "error.rs": "pub enum Error {}\n",
    "config.rs": "pub struct Config;\n",
}


class Cycles(TreeCase):
    def cycles(self, files: dict[str, str]) -> list[str]:
        return [v for v in self.violations(files, base=MINI) if "module cycle" in v]

    def test_three_module_cycle_with_its_chain_and_evidence(self) -> None:
        found = self.violations(
            {
                "config.rs": "use crate::reset::Mode;\n",
                "reset/mod.rs": "use crate::{\n    error::Error,\n    app::Thing,\n};\n",
                "app.rs": "use crate::config::Config;\n",
            },
            base=MINI,
        )
        self.assertOnly(
            found,
            "src/app.rs:1: module cycle app -> config -> reset -> app "
            "(app -> config at src/app.rs:1; config -> reset at src/config.rs:1; reset -> app at src/reset/mod.rs:3)",
        )

    def test_issue_13_cycle_auth_config_reset(self) -> None:
        # auth -> config -> reset -> config, and reset -> auth, as issue #13 found it; error is
        # used by all and uses none. auth -> config and reset -> config also break rule 2.
        found = self.violations(
            {
                "auth.rs": "use crate::{\n    config::{TargetConfig, TokenPolicy},\n    error::Error,\n};\n",
                "config.rs": "use crate::reset::{Mode, Service};\n",
                "reset/mod.rs": "mod cognito;\nuse crate::{config::{Backend, TargetConfig}, error::Error};\n",
                "reset/cognito.rs": "use crate::auth::PROTECTED_ACCOUNT;\n",
            },
            base=MINI,
        )
        self.assertOnly(
            found,
            "src/auth.rs:2: auth depends on config",
            "src/reset/mod.rs:2: reset depends on config",
            "src/auth.rs:2: module cycle auth -> config -> reset -> auth "
            "(auth -> config at src/auth.rs:2; config -> reset at src/config.rs:1; "
            "reset -> auth at src/reset/cognito.rs:1)",
            "src/config.rs:1: module cycle config -> reset -> config "
            "(config -> reset at src/config.rs:1; reset -> config at src/reset/mod.rs:2)",
        )

    def test_nested_group_gives_each_top_level_item(self) -> None:
        # `use crate::{app::{x, y}, auth}` in reset gives reset -> app and reset -> auth.
        found = self.cycles(
            {
                "reset/mod.rs": "use crate::{app::{x, y}, auth};\n",
                "auth.rs": "use crate::reset::Mode;\n",
                "app.rs": "fn f() -> crate::reset::Outcome { todo!() }\n",
            }
        )
        self.assertOnly(
            found,
            "src/app.rs:1: module cycle app -> reset -> app",
            "src/auth.rs:1: module cycle auth -> reset -> auth",
        )

    def test_group_without_a_prefix_inside_a_group(self) -> None:
        found = self.cycles({"app.rs": "use crate::{{error, auth}};\n", "auth.rs": "use crate::app;\n"})
        self.assertOnly(found, "src/app.rs:1: module cycle app -> auth -> app")

    def test_super_from_a_direct_child_makes_an_edge(self) -> None:
        found = self.cycles({"error.rs": "use super::auth::Caller;\n", "auth.rs": "use crate::error::Error;\n"})
        self.assertOnly(found, "src/auth.rs:1: module cycle auth -> error -> auth")

    def test_super_inside_a_module_directory_is_no_edge(self) -> None:
        found = self.cycles(
            {
                "reset/mod.rs": "mod cognito;\nuse crate::error::Error;\n",
                "reset/cognito.rs": "use super::{Settings, error};\n",  # reset::error, not crate::error
                "error.rs": "use crate::reset::Mode;\n",
            }
        )
        self.assertOnly(found, "src/error.rs:1: module cycle error -> reset -> error")
        found = self.cycles(
            {
                "reset/mod.rs": "mod cognito;\n",
                "reset/cognito.rs": "use super::{Settings, error};\n",
                "error.rs": "use crate::reset::Mode;\n",
            }
        )
        self.assertEqual(found, [])

    def test_reexported_name_makes_an_edge(self) -> None:
        # lib.rs: `pub use config::Config`, `pub use error::Error`.
        found = self.cycles({"error.rs": "pub enum Error { Bad(crate::Config) }\n", "config.rs": "use crate::Error;\n"})
        self.assertOnly(found, "src/config.rs:1: module cycle config -> error -> config")

    def test_expression_paths_make_edges(self) -> None:
        found = self.cycles(
            {
                "error.rs": "fn f() { crate::auth::Caller::new(); }\n",
                "auth.rs": "fn g() -> crate :: error :: Error { todo!() }\n",
            }
        )
        self.assertOnly(found, "src/auth.rs:1: module cycle auth -> error -> auth")

    def test_test_modules_do_not_make_edges(self) -> None:
        found = self.violations(
            {
                "error.rs": textwrap.dedent(
                    """
                    pub enum Error {}

                    #[cfg(test)]
                    #[allow(clippy::unwrap_used)]
                    mod tests {
                        use crate::auth::Caller;
                    }
                    """
                ),
                "auth.rs": "use crate::error::Error;\n#[cfg(test)]\nmod tests;\n",
                "auth/tests.rs": "use crate::config::X;\n",  # a tests.rs file: rule 2 still sees it
                "config.rs": "use crate::auth::Caller;\n",
            },
            base=MINI,
        )
        self.assertOnly(found, "src/auth/tests.rs:1: auth depends on config via crate::config (test code)")

    def test_test_directories_do_not_make_edges(self) -> None:
        found = self.violations(
            {
                "testkit/mod.rs": "use crate::{auth, config, error};\n",
                "auth.rs": "use crate::error::Error;\n#[cfg(test)]\nmod tests;\n",
                "auth/tests/cases.rs": "use crate::app::Thing;\n",
                "app.rs": "use crate::auth::Caller;\n",
                "error.rs": "#[cfg(test)]\nuse crate::testkit::Clock;\n#[cfg(test)]\nmod tests;\n",
                "error/tests.rs": "use crate::auth::Caller;\n",
            },
            base=MINI,
        )
        # `#[cfg(test)] use` is not a test module: error -> testkit counts, but testkit has
        # no production code, so no edge leaves it.
        self.assertEqual(found, [])

    def test_roots_make_no_edges(self) -> None:
        found = self.violations(
            {
                "lib.rs": MINI["lib.rs"] + "use crate::auth::x;\nfn f() { crate::error::g(); }\n",
                "main.rs": "use lambda_http::Body;\nfn main() { crate::auth::f(); }\n",
                "bin/tool.rs": "fn main() { crate::error::f(); }\n",
                "auth.rs": "use crate::error::Error;\n",
            },
            base=MINI,
        )
        self.assertEqual(found, [])

    def test_comments_and_strings_make_no_edges(self) -> None:
        found = self.cycles(
            {
                "error.rs": '// use crate::auth::Caller;\n/// [`crate::auth`]\nconst S: &str = "crate::auth::X";\nconst R: &str = r"crate::auth";\n',
                "auth.rs": "use crate::error::Error;\n",
            }
        )
        self.assertEqual(found, [])

    def test_cfg_test_on_a_function_does_not_cut(self) -> None:
        found = self.cycles(
            {
                "error.rs": "#[cfg(test)]\nfn helper() {}\nuse crate::auth::Caller;\n",
                "auth.rs": "use crate::error::Error;\n",
            }
        )
        self.assertOnly(found, "src/auth.rs:1: module cycle auth -> error -> auth")

    def test_cfg_test_in_a_comment_or_string_does_not_cut(self) -> None:
        found = self.cycles(
            {
                "error.rs": '// #[cfg(test)]\n// mod tests {\nconst S: &str = "#[cfg(test)]\nmod tests {";\nuse crate::auth::Caller;\n',
                "auth.rs": "use crate::error::Error;\n",
            }
        )
        self.assertOnly(found, "src/auth.rs:1: module cycle auth -> error -> auth")

    def test_no_cycle_summary_counts_modules(self) -> None:
        write_tree(self.root, {**CLEAN, "idempotency/mod.rs": "use crate::reset::Mode;\n"})
        found, count = check_layout.check(self.root)
        self.assertEqual(found, [])
        self.assertEqual(count, 7)


class FileLength(TreeCase):
    @staticmethod
    def lines(n: int, text: str = "fn f() {}") -> str:
        return "".join(f"{text}\n" for _ in range(n))

    def test_501_lines_fires_500_does_not(self) -> None:
        found = self.violations({"error.rs": self.lines(501), "auth.rs": self.lines(500)})
        self.assertOnly(found, "src/error.rs:1: 501 lines, over the limit of 500")

    def test_no_trailing_newline_is_still_a_line(self) -> None:
        found = self.violations({"error.rs": self.lines(500) + "fn last() {}"})
        self.assertOnly(found, "src/error.rs:1: 501 lines")

    def test_tests_after_cfg_test_mod_are_not_counted(self) -> None:
        body = self.lines(499) + "#[cfg(test)]\nmod tests {\n" + self.lines(300, "    fn t() {}") + "}\n"
        self.assertEqual(self.violations({"error.rs": body}), [])
        body = self.lines(501) + "#[cfg(test)]\nmod tests {\n" + self.lines(300, "    fn t() {}") + "}\n"
        self.assertOnly(self.violations({"error.rs": body}), "src/error.rs:1: 501 lines before its tests")

    def test_cfg_test_then_other_attributes_then_mod_decl(self) -> None:
        body = self.lines(400) + "#[cfg(test)]\n#[allow(\n    clippy::unwrap_used,\n)]\n#[path = \"x.rs\"]\npub(crate) mod memory;\n" + self.lines(200)
        self.assertEqual(self.violations({"error.rs": body}), [])

    def test_cfg_test_gating_something_else_is_counted(self) -> None:
        body = self.lines(400) + "#[cfg(test)]\nfn helper() {}\n#[cfg(test)]\nmacro_rules! m { () => {} }\n" + self.lines(200)
        self.assertOnly(self.violations({"error.rs": body}), "src/error.rs:1: 604 lines")

    def test_cfg_test_in_a_doc_comment_is_counted(self) -> None:
        body = self.lines(400) + "/// #[cfg(test)]\n/// mod tests {}\n" + self.lines(200)
        self.assertOnly(self.violations({"error.rs": body}), "src/error.rs:1: 602 lines")

    def test_test_files_are_skipped(self) -> None:
        big = self.lines(900)
        found = self.violations(
            {
                "http/tests.rs": big,
                "http/tests/cases.rs": big,
                "testkit/events.rs": big,
                "reset/tests/seed.rs": big,
                "main.rs": big,
                "lib.rs": CLEAN["lib.rs"] + self.lines(500),
            }
        )
        self.assertOnly(found, "src/main.rs:1: 900 lines", "src/lib.rs:1: 509 lines")


class Lexer(unittest.TestCase):
    def test_keeps_offsets_and_newlines(self) -> None:
        text = 'let s = "a\nb"; // c\n/* d\n e */ let t = r##"x"#y"##;\n'
        code = check_layout.strip_code(text)
        self.assertEqual(len(code), len(text))
        self.assertEqual(code.count("\n"), text.count("\n"))
        self.assertNotIn("x", code.replace("let", ""))
        self.assertIn("let t =", code)

    def test_raw_strings_end_at_their_own_delimiter(self) -> None:
        text = 'let a = r#"one " x"#; let b = r"C:\\"; let c = br##"a"#b"##; Y'
        code = check_layout.strip_code(text)
        self.assertNotIn("x", code)
        self.assertNotIn("#b", code)
        self.assertEqual(code.count("let"), 3)
        self.assertTrue(code.endswith("; Y"))

    def test_lifetimes_labels_and_raw_identifiers_are_code(self) -> None:
        text = "fn f<'a>(x: &'a str) { 'outer: loop { break 'outer; } let r#type = 1; }"
        self.assertEqual(check_layout.strip_code(text), text)

    def test_char_and_byte_literals(self) -> None:
        text = "let a = '\"'; let b = b'\\''; let c = '\\u{1F600}'; let d = '{'; X"
        code = check_layout.strip_code(text)
        self.assertNotIn('"', code)
        self.assertNotIn("{", code)
        self.assertTrue(code.endswith("X"))

    def test_use_tree_leaves(self) -> None:
        code = "a::{b::{c, d as e}, f, self, *} rest"
        leaves, end = check_layout.parse_use_tree(code, 0)
        paths = [([name for name, _ in segments], alias) for segments, alias in leaves]
        self.assertEqual(
            paths,
            [(["a", "b", "c"], None), (["a", "b", "d"], "e"), (["a", "f"], None), (["a", "self"], None), (["a", "*"], None)],
        )
        self.assertEqual(code[end:].strip(), "rest")


class RealRepository(unittest.TestCase):
    """The checker runs on this repository and answers in its format (clean or not)."""

    def test_runs_on_the_repository(self) -> None:
        root = HERE.parent
        if not (root / "src").is_dir():
            self.skipTest("no src/ next to scripts/")
        run = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
        self.assertIn(run.returncode, (0, 1), run.stderr)
        self.assertEqual(run.stderr, "")
        lines = run.stdout.splitlines()
        if run.returncode == 0:
            self.assertEqual(len(lines), 1)
            self.assertRegex(lines[0], r"^layout ok: \d+ modules, no cycles$")
        else:
            for line in lines:
                self.assertRegex(line, r"^src/\S+\.rs:\d+: \S")


if __name__ == "__main__":
    unittest.main()
