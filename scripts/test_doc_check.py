"""Tests of doc_check.py: `python3 -m unittest discover -s scripts -p 'test_doc_check.py'`."""

from __future__ import annotations

import io
import tempfile
import textwrap
import unittest
from pathlib import Path

import doc_check
from doc_check import Block, Command, DocError


def chapter(text: str) -> Path:
    """A Markdown file with `text`, removed after the test run."""
    handle = tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8")
    handle.write(textwrap.dedent(text))
    handle.close()
    return Path(handle.name)


class ParseTest(unittest.TestCase):
    def tearDown(self) -> None:
        for path in getattr(self, "paths", []):
            path.unlink()

    def parse(self, text: str) -> list[Block]:
        path = chapter(text)
        self.paths = [*getattr(self, "paths", []), path]
        return doc_check.parse_file(path)

    def test_a_marked_block_has_its_commands_and_their_claimed_lines(self) -> None:
        (block,) = self.parse(
            """\
            # A chapter

            <!-- doc-check -->
            ```console
            $ echo one
            one
            ...
            $ printf 'a\\n' \\
              'b\\n'
            a
            ```
            """
        )
        self.assertEqual((block.line, block.exit, block.skip), (4, 0, None))
        first, second = block.commands
        self.assertEqual((first.line, first.text), (5, "echo one"))
        self.assertEqual(first.expected, [(6, "one"), (7, "...")])
        self.assertEqual(second.text, "printf 'a\\n' \\\n  'b\\n'")
        self.assertEqual(doc_check.expected_lines(first), [(6, "one")])
        self.assertEqual(doc_check.expected_lines(second), [(10, "a")])

    def test_exit_and_skip_markers(self) -> None:
        failing, skipped = self.parse(
            """\
            <!-- doc-check exit=2 -->
            ```console
            $ false
            ```

            <!-- doc-check skip: needs an AWS account -->
            ```console
            $ aws sts get-caller-identity
            ```
            """
        )
        self.assertEqual(failing.exit, 2)
        self.assertEqual(skipped.skip, "needs an AWS account")

    def test_unmarked_blocks_and_markers_inside_fences_are_text(self) -> None:
        blocks = self.parse(
            """\
            ```console
            $ not checked
            ```

            ````markdown
            <!-- doc-check -->
            ```console
            $ shown, not run
            ```
            ````
            """
        )
        self.assertEqual(blocks, [])

    def test_a_marker_must_be_followed_at_once_by_a_console_block(self) -> None:
        for text in (
            "<!-- doc-check -->\n\n```console\n$ true\n```\n",
            "<!-- doc-check -->\n```sh\ntrue\n```\n",
            "<!-- doc-check -->\n",
        ):
            with self.subTest(text=text), self.assertRaisesRegex(DocError, "marker"):
                self.parse(text)

    def test_malformed_markers_and_blocks_are_errors(self) -> None:
        cases = {
            "<!-- doc-check exit=one -->\n```console\n$ true\n```\n": "unknown doc-check option",
            "<!-- doc-check skip: -->\n```console\n$ true\n```\n": "needs a reason",
            "<!-- doc-check -->\n```console\noutput first\n$ true\n```\n": "before the block's first",
            "<!-- doc-check -->\n```console\n```\n": "at least one",
            "<!-- doc-check -->\n```console\n$ true\n": "not closed",
        }
        for text, message in cases.items():
            with self.subTest(text=text), self.assertRaisesRegex(DocError, message):
                self.parse(text)


class NormalizeTest(unittest.TestCase):
    def test_uuids_durations_and_timestamps_become_placeholders(self) -> None:
        cases = {
            "trip 01a2464e-b9c4-7075-8b3e-c39fc2eb783f: CONFIRMED  ": "trip <uuid>: CONFIRMED",
            "took 0.12s, then 12ms, 437µs, 1.5 s and +731ms": "took <duration>, then <duration>, <duration>, <duration> and +<duration>",
            "test result: ok. 1 passed; finished in 3.21s": "test result: ok. 1 passed; finished in <duration>",
            "ExecutionStarted at 2024-01-01T00:00:00Z": "ExecutionStarted at <timestamp>",
            "at 2026-05-01T09:30:00.000000Z or 2026-05-01T09:30:00+09:00": "at <timestamp> or <timestamp>",
        }
        for line, normalized in cases.items():
            with self.subTest(line=line):
                self.assertEqual(doc_check.normalize(line), normalized)

    def test_counts_dates_and_words_are_kept(self) -> None:
        for line in (
            "holds:  2 seat(s), 1 room(s) a night",
            "3 file(s) unchanged",
            "night of 2026-12-01",
            "NH106 2026-12-01 seats                 200     194",
            "5 seats, 2 rooms",
        ):
            with self.subTest(line=line):
                self.assertEqual(doc_check.normalize(line), line.rstrip())


class MatchTest(unittest.TestCase):
    def test_expected_lines_are_found_in_order_with_gaps(self) -> None:
        result = doc_check.match_output(["b", "d"], ["a", "b", "c", "d", "e"])
        self.assertEqual((result.found, result.missing), ([1, 3], None))

    def test_order_matters(self) -> None:
        result = doc_check.match_output(["d", "b"], ["a", "b", "c", "d"])
        self.assertEqual((result.found, result.missing), ([3], 1))

    def test_a_line_matches_whole_after_trimming_trailing_whitespace(self) -> None:
        self.assertIsNone(doc_check.match_output(["  ok"], ["  ok   "]).missing)
        self.assertEqual(doc_check.match_output(["ok"], ["  ok"]).missing, 0)
        self.assertEqual(doc_check.match_output(["ok"], ["ok then"]).missing, 0)

    def test_the_ellipsis_matches_any_text_within_a_line(self) -> None:
        expected = ["    trip <…>: CONFIRMED", "<…>took<…>"]
        actual = ["    trip 95ec5c6f: CONFIRMED", "it took long"]
        self.assertIsNone(doc_check.match_output(expected, actual).missing)
        self.assertEqual(doc_check.match_output(["trip <…>: CONFIRMED"], ["trip 95ec5c6f: CANCELLED"]).missing, 0)

    def test_regex_characters_are_literal(self) -> None:
        self.assertIsNone(doc_check.match_output(["a.b [x] (y)*"], ["a.b [x] (y)*"]).missing)
        self.assertEqual(doc_check.match_output(["a.b"], ["axb"]).missing, 0)

    def test_both_sides_are_normalized(self) -> None:
        expected = ["result: SUCCEEDED after 2277ms, 9655µs wall, at 2024-01-01T00:00:00Z"]
        actual = ["result: SUCCEEDED after 1ms, 3.2s wall, at 2030-06-01T12:00:00.5Z"]
        self.assertIsNone(doc_check.match_output(expected, actual).missing)


class ShimTest(unittest.TestCase):
    def setUp(self) -> None:
        self.bin_dir = Path(tempfile.mkdtemp())
        for name in ("trip-local", "saga-dsl"):
            (self.bin_dir / name).write_text("")
        self.tests = {
            "kernel": {
                "dir": "/repo/services/kernel",
                "lib": {"executable": "/repo/target/debug/deps/kernel-1", "source": "src/lib.rs"},
                "test:step_transaction": {
                    "executable": "/repo/target/debug/deps/step_transaction-2",
                    "source": "tests/step_transaction.rs",
                },
            }
        }

    def tearDown(self) -> None:
        for child in self.bin_dir.iterdir():
            child.unlink()
        self.bin_dir.rmdir()

    def test_cargo_run_of_a_shimmed_package_runs_its_built_binary(self) -> None:
        cases = {
            ("-q", "-p", "trip-local", "--", "run", "--fault", "X=Y"): ["trip-local", "run", "--fault", "X=Y"],
            ("-q", "-p", "saga-dsl"): ["saga-dsl"],
            ("--package=saga-dsl", "--", "--check"): ["saga-dsl", "--check"],
            ("--bin", "trip-local", "-q"): ["trip-local"],
        }
        for argv, expected in cases.items():
            with self.subTest(argv=argv):
                shimmed = doc_check.shim_run(list(argv), self.bin_dir)
                self.assertEqual(shimmed.argv, [str(self.bin_dir / expected[0]), *expected[1:]])
                self.assertIsNone(shimmed.cwd, "cargo run keeps the current directory")

    def test_any_other_run_goes_to_cargo(self) -> None:
        for argv in (
            ["-p", "trip"],
            ["-q", "-p", "trip-local", "--release", "--", "demo"],
            ["-p", "trip-local", "--bin", "get-trip"],
            ["-q", "extra-positional"],
            [],
        ):
            with self.subTest(argv=argv):
                self.assertIsNone(doc_check.shim_run(argv, self.bin_dir))

    def test_a_binary_that_is_not_built_goes_to_cargo(self) -> None:
        (self.bin_dir / "saga-dsl").unlink()
        self.assertIsNone(doc_check.shim_run(["-q", "-p", "saga-dsl"], self.bin_dir))

    def test_cargo_test_of_one_target_runs_its_test_executable_from_the_package(self) -> None:
        shimmed = doc_check.shim_test(["-q", "-p", "kernel", "--lib", "dynamo::table"], self.tests)
        self.assertEqual(shimmed.argv, ["/repo/target/debug/deps/kernel-1", "dynamo::table", "--quiet"])
        self.assertEqual(shimmed.cwd, "/repo/services/kernel")
        self.assertEqual(shimmed.env["CARGO_MANIFEST_DIR"], "/repo/services/kernel")
        self.assertIsNone(shimmed.banner, "-q: cargo prints nothing of its own")
        shimmed = doc_check.shim_test(["-p", "kernel", "--test", "step_transaction", "--", "--exact", "x"], self.tests)
        self.assertEqual(shimmed.argv, ["/repo/target/debug/deps/step_transaction-2", "--exact", "x"])
        self.assertIn("Running tests/step_transaction.rs (", shimmed.banner)

    def test_any_other_test_goes_to_cargo(self) -> None:
        for argv in (
            ["-p", "kernel"],
            ["-p", "kernel", "--lib", "--test", "step_transaction"],
            ["-p", "kernel", "--test", "missing"],
            ["-p", "flight", "--lib"],
            ["-p", "kernel", "--lib", "--features", "testing"],
            ["-p", "kernel", "--lib", "one", "two"],
            ["--workspace", "--lib"],
        ):
            with self.subTest(argv=argv):
                self.assertIsNone(doc_check.shim_test(argv, self.tests))


class RunTest(unittest.TestCase):
    """Blocks run by bash, as the chapters' are (without the cargo shim)."""

    def setUp(self) -> None:
        self.private = tempfile.TemporaryDirectory()
        self.env = doc_check.command_env(None, None, None)

    def tearDown(self) -> None:
        self.private.cleanup()

    def block(self, *commands: tuple[str, list[str]], exit: int = 0) -> Block:
        return Block(
            Path("chapter.md"),
            1,
            [Command(n, text, [(n, line) for line in lines]) for n, (text, lines) in enumerate(commands, start=2)],
            exit,
        )

    def check(self, block: Block) -> list[str]:
        return doc_check.check_block(block, self.env, 30, self.private.name)

    def test_a_block_that_holds(self) -> None:
        block = self.block(
            ("cd scripts", []),
            ("pwd; echo 'took 12ms' >&2; echo done", ["<…>/scripts", "took 3.5s", "...", "done"]),
        )
        self.assertEqual(self.check(block), [])

    def test_drift_is_reported_with_the_missing_line_and_the_nearest_output(self) -> None:
        block = self.block(("printf 'a\\nresult: SUCCEEDED\\nb\\n'", ["a", "result: FAILED", "b"]))
        report = "\n".join(self.check(block))
        self.assertIn("MISSING  line 2: result: FAILED", report)
        self.assertIn("ok       line 2: a   (output line 1)", report)
        self.assertIn("+ result: SUCCEEDED", report)
        self.assertIn("2 | result: SUCCEEDED", report)

    def test_exit_statuses(self) -> None:
        self.assertEqual(self.check(self.block(("true", []), ("sh -c 'exit 3'", []), exit=3)), [])
        report = self.check(self.block(("false", []), ("true", []), exit=0))
        self.assertIn("exit status 1, the chapter says 0", "\n".join(report))
        self.assertEqual(report[0], "$ false", "the block stops at the first unexpected status")
        report = self.check(self.block(("true", []), exit=2))
        self.assertIn("exit status 0, the chapter says 2", "\n".join(report))

    def test_tmp_is_private_to_the_run_and_reads_as_tmp(self) -> None:
        block = self.block(
            ("mkdir -p /tmp/doc-check-test && echo hi > /tmp/doc-check-test/f", []),
            ("cat /tmp/doc-check-test/f; ls -d /tmp/doc-check-test", ["hi", "/tmp/doc-check-test"]),
        )
        self.assertEqual(self.check(block), [])
        self.assertTrue(Path(self.private.name, "doc-check-test", "f").exists())
        self.assertFalse(Path("/tmp/doc-check-test").exists())

    def test_a_block_that_runs_too_long_is_stopped(self) -> None:
        report = doc_check.check_block(self.block(("sleep 5", [])), self.env, 0.5, None)
        self.assertIn("did not finish within", "\n".join(report))


class MainTest(unittest.TestCase):
    def run_main(self, text: str, *extra: str) -> tuple[int, str]:
        path = chapter(text)
        try:
            out = io.StringIO()
            status = doc_check.main([str(path), "--no-build", *extra], out=out)
            return status, out.getvalue()
        finally:
            path.unlink()

    def test_the_summary_counts_blocks_commands_and_skips(self) -> None:
        status, out = self.run_main(
            """\
            <!-- doc-check -->
            ```console
            $ echo a
            a
            $ echo b
            b
            ```

            <!-- doc-check skip: takes minutes -->
            ```console
            $ sleep 600
            ```
            """
        )
        self.assertEqual(status, 0, out)
        self.assertIn("doc-check: 1 blocks, 2 commands checked, 1 skipped", out)
        self.assertIn("$ echo a", out)
        self.assertIn("$ echo b", out)
        self.assertIn("skip  ", out)

    def test_a_drifted_block_fails_the_run(self) -> None:
        status, out = self.run_main("<!-- doc-check -->\n```console\n$ echo a\nb\n```\n")
        self.assertEqual(status, 1)
        self.assertIn("FAIL", out)
        self.assertIn("1 of 1 blocks drifted", out)

    def test_checking_nothing_fails(self) -> None:
        status, out = self.run_main("```console\n$ echo a\n```\n")
        self.assertEqual(status, 1)
        self.assertIn("doc-check: 0 blocks, 0 commands checked, 0 skipped", out)
        self.assertIn("checks nothing", out)

    def test_a_malformed_chapter_fails(self) -> None:
        status, out = self.run_main("<!-- doc-check exit=x -->\n```console\n$ true\n```\n")
        self.assertEqual(status, 1)
        self.assertIn("unknown doc-check option", out)

    def test_list_runs_nothing(self) -> None:
        status, out = self.run_main("<!-- doc-check -->\n```console\n$ exit 1\n```\n", "--list")
        self.assertEqual(status, 0)
        self.assertIn("doc-check: 1 blocks, 1 commands checked, 0 skipped", out)


if __name__ == "__main__":
    unittest.main()
