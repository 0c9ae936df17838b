#!/usr/bin/env python3
"""Keeps the course true: runs the commands the chapters mark as checked and compares their output
with what the chapters claim (`make test` runs it; docs/hands-on/README.md, "コマンドと出力の検査").

A chapter marks a console block for checking with a comment on the line right before its fence:

    <!-- doc-check -->              every command must exit 0
    <!-- doc-check exit=N -->       the block's last command must exit N (the others 0)
    <!-- doc-check skip: reason --> deliberately not checked (needs AWS, takes minutes, …)
    ```console
    $ cargo run -q -p trip-local -- run
    Trip booking saga, generated ASL on the local interpreter; store: in-memory; time: virtual
    ...
        path:   Start → CreateTrip → ReserveFlight → ReserveHotel → ProcessPayment → ConfirmTrip
        trip <…>: CONFIRMED
    ```

A line starting with `$ ` is a command (bash, from the repository root; one shell per block, so
`cd` and variables carry over to the block's next command; a line ending in `\\` continues on the
next). The lines up to the next command are the output it claims: each non-empty one must appear,
in order, among the lines the command printed (stdout and stderr together), compared after
trimming trailing whitespace. Lines in between are allowed; a line that is exactly `...` only says
so to the reader. In an expected line `<…>` stands for any text within that line. Both sides are
normalized first: UUIDs become `<uuid>`, durations (`0.12s`, `12ms`, `437µs`, `1.5 s`) become
`<duration>`, ISO-8601 timestamps become `<timestamp>`.

Two things are done for the check's sake, not the reader's:
- Every `/tmp/` in a command is moved into a private directory of this run (and moved back in the
  output), so that runs never see each other's files, nor files a reader left behind.
- `cargo run [-q] -p trip-local|saga-dsl [--] ARGS` runs the binary that `cargo test --workspace
  --all-features --no-run` built (which this script runs first, a no-op in `make test`), and
  `cargo test [-q] -p PKG --lib|--test NAME|--bin NAME [FILTER] [-- ARGS]` runs that build's test
  executable, from the package's directory as cargo does, instead of asking cargo: `-p` resolves
  features for one package, without the other members' dev-dependencies, and would build the
  whole AWS SDK again, once per package. The programs and their output are the same (cargo's own
  `Running …` line included). With `--no-build`, `cargo run` takes target/debug's binaries as
  they are and `cargo test` goes to cargo.

Standard library only; `python3 scripts/doc_check.py --help`. Its tests:
`python3 -m unittest discover -s scripts -p 'test_doc_check.py'`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = [ROOT / "docs" / "hands-on"]
DEFAULT_TIMEOUT = 120.0
ELLIPSIS = "<…>"
# The binaries `cargo run -p` is sent to, by package (each package's default-run binary).
SHIMMED_PACKAGES = {"trip-local": "trip-local", "saga-dsl": "saga-dsl"}


class DocError(Exception):
    """A chapter that cannot be checked as written (a malformed marker or block)."""


# --- parsing -------------------------------------------------------------------------------------

MARKER = re.compile(r"^<!--\s*doc-check\b(?P<options>.*?)-->\s*$")
MARKER_START = re.compile(r"^\s*<!--\s*doc-check")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Command:
    """One `$ ` command of a block and the output lines it claims."""

    line: int
    text: str
    expected: list[tuple[int, str]] = field(default_factory=list)

    def first_line(self) -> str:
        first, _, rest = self.text.partition("\n")
        return first + (" …" if rest else "")


@dataclass
class Block:
    """A marked console block."""

    path: Path
    line: int
    commands: list[Command]
    exit: int = 0
    skip: str | None = None

    def where(self) -> str:
        return f"{display_path(self.path)}:{self.line}"


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def parse_marker(text: str, where: str) -> tuple[int, str | None]:
    """The exit status and skip reason a marker line sets; DocError when it says anything else."""
    match = MARKER.match(text.strip())
    if not match:
        raise DocError(f"{where}: not a doc-check marker: {text.strip()}")
    options = match.group("options").strip()
    if not options:
        return 0, None
    if options.startswith("skip:"):
        reason = options[len("skip:") :].strip()
        if not reason:
            raise DocError(f"{where}: `doc-check skip:` needs a reason")
        return 0, reason
    exit_match = re.fullmatch(r"exit=(\d+)", options)
    if exit_match:
        return int(exit_match.group(1)), None
    raise DocError(
        f"{where}: unknown doc-check option `{options}`: write `doc-check`, `doc-check exit=N` or `doc-check skip: reason`"
    )


def parse_commands(lines: list[str], first_line: int, where: str) -> list[Command]:
    """The commands of a console block's body (`lines`, whose first is line `first_line`)."""
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        text = lines[index]
        number = first_line + index
        index += 1
        if text.startswith("$ "):
            command = [text[2:]]
            while command[-1].endswith("\\") and index < len(lines):
                command.append(lines[index])
                index += 1
            commands.append(Command(number, "\n".join(command)))
        elif not commands:
            if text.strip():
                raise DocError(f"{where}: line {number} comes before the block's first `$ ` command")
        else:
            commands[-1].expected.append((number, text))
    if not commands:
        raise DocError(f"{where}: a checked block needs at least one `$ ` command")
    return commands


def parse_file(path: Path) -> list[Block]:
    """The marked console blocks of a Markdown file, in order. Markers inside fenced blocks are
    text (a chapter may show the convention); a marker must be followed at once by a console
    fence, so that a typo cannot leave a block silently unchecked."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    fence: str | None = None
    pending: tuple[int, int, str | None] | None = None
    index = 0
    while index < len(lines):
        text = lines[index]
        number = index + 1
        index += 1
        if fence is not None:
            closing = FENCE.match(text)
            if closing and closing.group("fence").startswith(fence) and not closing.group("info").strip():
                fence = None
            continue
        where = f"{display_path(path)}:{number}"
        opening = FENCE.match(text)
        if pending is not None:
            marker_line, exit_status, skip = pending
            pending = None
            if not opening or opening.group("info").strip() != "console":
                raise DocError(
                    f"{display_path(path)}:{marker_line}: a doc-check marker must be followed at once by a ```console block"
                )
            fence_text = opening.group("fence")
            body: list[str] = []
            while index < len(lines):
                closing = FENCE.match(lines[index])
                if closing and closing.group("fence").startswith(fence_text) and not closing.group("info").strip():
                    break
                body.append(lines[index])
                index += 1
            else:
                raise DocError(f"{where}: the console block is not closed")
            index += 1
            commands = parse_commands(body, number + 1, where)
            blocks.append(Block(path, number, commands, exit_status, skip))
            continue
        if opening:
            fence = opening.group("fence")
            continue
        if MARKER_START.match(text):
            exit_status, skip = parse_marker(text, where)
            pending = (number, exit_status, skip)
    if pending is not None:
        raise DocError(f"{display_path(path)}:{pending[0]}: a doc-check marker ends the file")
    return blocks


# --- matching ------------------------------------------------------------------------------------

TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|µs|μs|us|ms|s|secs?|min|m|h)\b")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def normalize(line: str) -> str:
    """`line` without trailing whitespace, its timestamps, UUIDs and durations replaced by
    placeholders (timestamps first: their seconds would otherwise read as durations)."""
    line = TIMESTAMP.sub("<timestamp>", line.rstrip())
    line = UUID.sub("<uuid>", line)
    return DURATION.sub("<duration>", line)


def expected_pattern(line: str) -> re.Pattern[str]:
    """The whole-line pattern of an expected line: literal text, `<…>` matching anything."""
    parts = normalize(line).split(ELLIPSIS)
    return re.compile("".join(["^", ".*".join(re.escape(part) for part in parts), "$"]))


def expected_lines(command: Command) -> list[tuple[int, str]]:
    """The lines a command's output must contain: neither empty nor the reader's `...`."""
    return [(n, t.rstrip()) for n, t in command.expected if t.strip() and t.strip() != "..."]


@dataclass
class Match:
    """Which expected lines were found, at which output line, and the first one that was not."""

    found: list[int]
    missing: int | None


def match_output(expected: list[str], actual: list[str]) -> Match:
    """Finds `expected` in order in `actual`, each at the earliest output line after the previous
    one's (greedy is exact for a subsequence: an earlier match never rules a later one out)."""
    normalized = [normalize(line) for line in actual]
    found: list[int] = []
    position = 0
    for index, line in enumerate(expected):
        pattern = expected_pattern(line)
        while position < len(normalized) and not pattern.match(normalized[position]):
            position += 1
        if position == len(normalized):
            return Match(found, index)
        found.append(position)
        position += 1
    return Match(found, None)


def output_lines(raw: bytes, private_tmp: str | None) -> list[str]:
    text = raw.decode("utf-8", errors="replace")
    if private_tmp:
        text = text.replace(private_tmp + "/", "/tmp/")
    return [ANSI.sub("", line).rstrip() for line in text.splitlines()]


# --- running -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one command did."""

    command: Command
    status: int | None
    output: list[str]


def relocate(command: str, private_tmp: str | None) -> str:
    return command.replace("/tmp/", private_tmp + "/") if private_tmp else command


def block_script(block: Block, workdir: str, private_tmp: str | None) -> str:
    """A bash script that runs the block's commands in one shell from the repository root, each
    one's output and status in its own file, and stops after the first unexpected status."""
    lines = [f"cd {shell_quote(str(ROOT))} || exit 97", "exec </dev/null"]
    for index, command in enumerate(block.commands):
        expected = block.exit if index == len(block.commands) - 1 else 0
        out = shell_quote(f"{workdir}/{index}.out")
        status = shell_quote(f"{workdir}/{index}.status")
        # The newline before `}` ends a trailing `# comment` of the command.
        lines += ["{", relocate(command.text, private_tmp), f"}} >{out} 2>&1", f"echo $? >{status}"]
        lines.append(f'[ "$(cat {status})" = "{expected}" ] || exit 0')
    return "\n".join(lines) + "\n"


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def run_block(block: Block, env: dict[str, str], timeout: float, private_tmp: str | None) -> tuple[list[Outcome], bool]:
    """Runs `block`; the outcomes of the commands that ran, and whether it finished in time."""
    with tempfile.TemporaryDirectory(prefix="doc-check-block-") as workdir:
        script = Path(workdir, "block.sh")
        script.write_text(block_script(block, workdir, private_tmp), encoding="utf-8")
        process = subprocess.Popen(["bash", str(script)], env=env, start_new_session=True)
        try:
            process.wait(timeout=timeout)
            in_time = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            in_time = False
        outcomes = []
        for index, command in enumerate(block.commands):
            out, status = Path(workdir, f"{index}.out"), Path(workdir, f"{index}.status")
            if not out.exists():
                break
            code = int(status.read_text().strip()) if status.exists() else None
            outcomes.append(Outcome(command, code, output_lines(out.read_bytes(), private_tmp)))
        return outcomes, in_time


def check_block(block: Block, env: dict[str, str], timeout: float, private_tmp: str | None) -> list[str]:
    """Runs `block` and answers what drifted, as lines to print (none: it holds)."""
    outcomes, in_time = run_block(block, env, timeout, private_tmp)
    for index, command in enumerate(block.commands):
        expected_status = block.exit if index == len(block.commands) - 1 else 0
        if index >= len(outcomes):
            reason = f"did not finish within {timeout:.0f}s" if not in_time else "the shell stopped before it"
            return [f"$ {command.first_line()}", f"  {reason}"]
        outcome = outcomes[index]
        if outcome.status is None:
            reason = f"did not finish within {timeout:.0f}s" if not in_time else "the shell exited during it"
            return [f"$ {command.first_line()}", f"  {reason}"] + dump(outcome.output)
        problems = []
        if outcome.status != expected_status:
            problems.append(f"  exit status {outcome.status}, the chapter says {expected_status}")
        lines = expected_lines(command)
        result = match_output([text for _, text in lines], outcome.output)
        if result.missing is not None:
            problems += describe_drift(lines, result, outcome.output)
        if problems:
            return [f"$ {command.first_line()}"] + problems + dump(outcome.output)
    return []


def describe_drift(lines: list[tuple[int, str]], result: Match, actual: list[str]) -> list[str]:
    """Where the claimed output and the real one part: the expected lines with the output line
    each was found at, the first one missing, and the output line most like it."""
    report = ["  the output no longer says what the chapter claims; expected, in order:"]
    for index, (number, text) in enumerate(lines):
        if index < len(result.found):
            report.append(f"    ok       line {number}: {text}   (output line {result.found[index] + 1})")
        elif index == result.missing:
            after = result.found[-1] + 1 if result.found else 0
            report.append(f"    MISSING  line {number}: {text}   (searched from output line {after + 1})")
        else:
            report.append(f"    -        line {number}: {text}")
    _, missing_text = lines[result.missing]
    start = result.found[-1] + 1 if result.found else 0
    candidates = [normalize(line) for line in actual[start:]]
    nearest = difflib.get_close_matches(normalize(missing_text), candidates, n=1, cutoff=0.0)
    if nearest:
        at = start + candidates.index(nearest[0]) + 1
        report.append(f"  nearest output line ({at}), normalized, against the missing line:")
        for diff_line in difflib.ndiff([normalize(missing_text)], [nearest[0]]):
            report.append("    " + diff_line.rstrip("\n"))
    return report


def dump(output: list[str], limit: int = 60) -> list[str]:
    """The command's output with line numbers; its middle elided past `limit` lines."""
    if not output:
        return ["  (the command printed nothing)"]
    numbered = list(enumerate(output, start=1))
    if len(numbered) > limit:
        numbered = numbered[: limit // 2] + [(0, "…")] + numbered[-limit // 2 :]
    width = len(str(len(output)))
    report = ["  output:"]
    for number, line in numbered:
        label = str(number) if number else "…"
        report.append(f"    {label.rjust(width)} | {line}" if number else f"    {label.rjust(width)} |")
    return report


# --- the cargo shim ------------------------------------------------------------------------------


@dataclass
class Shimmed:
    """What runs instead of `cargo …`: a built executable, where and how cargo would run it."""

    argv: list[str]
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    banner: str | None = None


def parse_cargo_args(argv: list[str], flags: set[str], options: set[str]) -> tuple[set[str], dict[str, str], list[str], list[str]] | None:
    """`argv` after the cargo command: the flags and options it sets, its positional arguments and
    what follows `--`; None when it has anything else (cargo itself must handle it)."""
    seen: set[str] = set()
    values: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return seen, values, positional, argv[index + 1 :]
        name, equals, value = arg.partition("=")
        if arg in flags:
            seen.add(arg)
        elif name in options and equals:
            values[name] = value
        elif arg in options and index + 1 < len(argv):
            values[arg] = argv[index + 1]
            index += 1
        elif not arg.startswith("-"):
            positional.append(arg)
        else:
            return None
        index += 1
    return seen, values, positional, []


def shim_run(argv: list[str], bin_dir: Path) -> Shimmed | None:
    """`cargo run [-q] -p PKG|--bin BIN [-- ARGS]` of a shimmed package: its binary, as built."""
    parsed = parse_cargo_args(argv, {"-q", "--quiet"}, {"-p", "--package", "--bin"})
    if parsed is None or parsed[2]:
        return None
    _, values, _, rest = parsed
    package = values.get("-p", values.get("--package"))
    if package is not None and package not in SHIMMED_PACKAGES:
        return None
    name = values.get("--bin") or (SHIMMED_PACKAGES[package] if package else None)
    if name not in SHIMMED_PACKAGES.values():
        return None
    executable = bin_dir / name
    if not executable.is_file():
        return None
    return Shimmed([str(executable), *rest])


def shim_test(argv: list[str], tests: dict[str, dict[str, str]]) -> Shimmed | None:
    """`cargo test [-q] -p PKG --lib|--test NAME|--bin NAME [FILTER] [-- ARGS]`: that one test
    executable of the tests' build, run as cargo runs it (from the package's directory, with the
    harness told to be quiet under `-q`). Anything wider (doc tests, several targets) is cargo's."""
    parsed = parse_cargo_args(argv, {"-q", "--quiet", "--lib"}, {"-p", "--package", "--test", "--bin"})
    if parsed is None:
        return None
    flags, values, positional, rest = parsed
    package = values.get("-p", values.get("--package"))
    targets = [key for key in ("--lib", "--test", "--bin") if key in flags or key in values]
    if package not in tests or len(targets) != 1 or len(positional) > 1:
        return None
    target = "lib" if targets[0] == "--lib" else f"{targets[0][2:]}:{values[targets[0]]}"
    built = tests[package]
    if target not in built:
        return None
    executable, source = built[target]["executable"], built[target]["source"]
    quiet = bool(flags & {"-q", "--quiet"})
    kind = "unittests " if target == "lib" or target.startswith("bin:") else ""
    banner = None if quiet else f"     Running {kind}{source} ({os.path.relpath(executable, ROOT)})"
    return Shimmed(
        [executable, *positional, *(["--quiet"] if quiet else []), *rest],
        cwd=built["dir"],
        env={"CARGO_MANIFEST_DIR": built["dir"], "CARGO_PKG_NAME": package},
        banner=banner,
    )


def shim_main(argv: list[str]) -> int:
    real_cargo = os.environ["DOC_CHECK_REAL_CARGO"]
    shimmed = None
    if argv[:1] == ["run"]:
        shimmed = shim_run(argv[1:], Path(os.environ["DOC_CHECK_BIN_DIR"]))
    elif argv[:1] == ["test"] and os.environ.get("DOC_CHECK_TESTS"):
        tests = json.loads(Path(os.environ["DOC_CHECK_TESTS"]).read_text(encoding="utf-8"))
        shimmed = shim_test(argv[1:], tests)
    if shimmed is None:
        os.execv(real_cargo, [real_cargo, *argv])
    if shimmed.banner:
        print(shimmed.banner, file=sys.stderr, flush=True)
    if shimmed.cwd:
        os.chdir(shimmed.cwd)
    os.execve(shimmed.argv[0], shimmed.argv, {**os.environ, **shimmed.env})
    return 127  # unreachable: exec replaces this process


def install_shim(directory: Path) -> Path:
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "cargo"
    shim.write_text(
        f"#!/bin/sh\nexec {shell_quote(sys.executable)} {shell_quote(str(Path(__file__).resolve()))} --cargo-shim \"$@\"\n",
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return bin_dir


def build_tests(real_cargo: str) -> dict[str, dict]:
    """Builds what the tests build (a no-op right after `make test`'s build) and answers its test
    executables: by package, `lib`, `test:NAME` and `bin:NAME`, each with its source, and the
    package's directory as `dir`."""
    build = subprocess.run(
        [real_cargo, "test", "--workspace", "--all-features", "--no-run", "--quiet",
         "--message-format=json-render-diagnostics"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        sys.stderr.write(build.stderr)
        raise SystemExit("doc-check: `cargo test --workspace --all-features --no-run` failed (above)")
    packages = {package["id"]: package for package in cargo_metadata(real_cargo)["packages"]}
    tests: dict[str, dict] = {}
    for line in build.stdout.splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        package = packages.get(message.get("package_id", ""))
        if message.get("reason") != "compiler-artifact" or not package or not message["profile"]["test"]:
            continue
        directory = str(Path(package["manifest_path"]).parent)
        target = message["target"]
        kind = "lib" if "lib" in target["kind"] else target["kind"][0]
        key = "lib" if kind == "lib" else f"{kind}:{target['name']}"
        built = tests.setdefault(package["name"], {"dir": directory})
        built[key] = {
            "executable": message["executable"],
            "source": os.path.relpath(target["src_path"], directory),
        }
    return tests


def cargo_metadata(real_cargo: str) -> dict:
    metadata = subprocess.run(
        [real_cargo, "metadata", "--no-deps", "--format-version", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(metadata.stdout)


# --- the command line ----------------------------------------------------------------------------


def markdown_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.md")) if path.is_dir() else [path]
    return files


def command_env(
    shim_dir: Path | None, real_cargo: str | None, bin_dir: Path | None, tests: Path | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    # A nested `make` (the chapters run `make run`) must behave as in the reader's shell, not as
    # a sub-make of `make test`.
    for name in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"):
        env.pop(name, None)
    env.update({"CARGO_TERM_COLOR": "never", "NO_COLOR": "1", "TERM": "dumb"})
    if shim_dir is not None and real_cargo is not None and bin_dir is not None:
        env["PATH"] = f"{shim_dir}{os.pathsep}{env.get('PATH', '')}"
        env["DOC_CHECK_REAL_CARGO"] = real_cargo
        env["DOC_CHECK_BIN_DIR"] = str(bin_dir)
        if tests is not None:
            env["DOC_CHECK_TESTS"] = str(tests)
    return env


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--cargo-shim"]:
        return shim_main(argv[1:])
    parser = argparse.ArgumentParser(
        description="Run the chapters' doc-check blocks and compare their output with the text."
    )
    parser.add_argument("paths", nargs="*", type=Path, help="Markdown files or directories (default: docs/hands-on)")
    parser.add_argument("--list", action="store_true", help="list the marked blocks without running them")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds a block may take (default: %(default)s)")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="do not build first: `cargo run` runs the binaries target/debug has, as they are, and "
        "`cargo test` goes to cargo",
    )
    args = parser.parse_args(argv)

    try:
        blocks = [block for path in markdown_files(args.paths or DEFAULT_PATHS) for block in parse_file(path)]
    except DocError as error:
        print(f"doc-check: {error}", file=out)
        return 1
    checked = [block for block in blocks if block.skip is None]
    skipped = len(blocks) - len(checked)
    commands = sum(len(block.commands) for block in checked)
    summary = f"doc-check: {len(checked)} blocks, {commands} commands checked, {skipped} skipped"
    if args.list:
        for block in blocks:
            label = f"skip  {block.where()}  ({block.skip})" if block.skip else f"      {block.where()}"
            print(label, file=out)
        print(summary, file=out)
        return 0
    if not checked:
        print(summary, file=out)
        print("doc-check: no block is checked: a check that checks nothing is a defect", file=out)
        return 1

    real_cargo = shutil.which("cargo")
    with tempfile.TemporaryDirectory(prefix="doc-check-") as private:
        shim_dir = bin_dir = tests = None
        if real_cargo:
            if not args.no_build:
                tests = Path(private, "tests.json")
                tests.write_text(json.dumps(build_tests(real_cargo)), encoding="utf-8")
            bin_dir = Path(cargo_metadata(real_cargo)["target_directory"]) / "debug"
            shim_dir = install_shim(Path(private))
        private_tmp = str(Path(private, "tmp"))
        os.mkdir(private_tmp)
        env = command_env(shim_dir, real_cargo, bin_dir, tests)
        drifted = 0
        for block in blocks:
            if block.skip is not None:
                print(f"skip  {block.where()}  ({block.skip})", file=out)
                continue
            started = time.monotonic()
            problems = check_block(block, env, args.timeout, private_tmp)
            took = time.monotonic() - started
            head, *more = block.commands
            status = "FAIL" if problems else "ok  "
            print(f"{status}  {block.where()}  $ {head.first_line()}  ({took:.1f}s)", file=out)
            for command in more:
                print(f"      {' ' * len(block.where())}  $ {command.first_line()}", file=out)
            if problems:
                drifted += 1
                for line in problems:
                    print(f"      {line}", file=out)
            out.flush()
    print(summary, file=out)
    if drifted:
        print(f"doc-check: {drifted} of {len(checked)} blocks drifted (above): fix the chapter or the code", file=out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
