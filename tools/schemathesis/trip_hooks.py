"""Loaded by scripts/schemathesis.sh (SCHEMATHESIS_HOOKS) before schemathesis runs.

Hypothesis names a filtered strategy by parsing the source file of the filter's lambda, the first
time it meets that file. The parse happens wherever generation is at that moment, under the
recursion limit hypothesis raised for it, and on CPython before 3.11.8 / 3.12.2 that can make
`ast.parse` fail with "SystemError: AST constructor recursion depth mismatch" (CPython
gh-106905), which schemathesis then reports as an error of the operation under test. Parsing
schemathesis' source files here, at the top of the stack, fills hypothesis' cache of parsed
files (keyed by the file's lines, as `inspect.findsource` reads them), so no parse of them happens
during generation. That cache is per thread and schemathesis generates in worker threads, so it
is replaced by one dictionary that every thread reads.
"""

import ast
import linecache
from pathlib import Path

from hypothesis.internal import lambda_sources

import schemathesis


def _parse_ahead() -> None:
    parsed: dict = {}
    for path in sorted(Path(schemathesis.__file__).parent.rglob("*.py")):
        lines = linecache.getlines(str(path))
        if not any("lambda" in line for line in lines):
            continue
        try:
            tree = ast.parse("".join(lines))
        except SyntaxError:
            continue
        parsed[tuple(lines)] = lambda_sources.extract_all_lambdas(tree)
    lambda_sources.AST_LAMBDAS_CACHE = parsed


_parse_ahead()
