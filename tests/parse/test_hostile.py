"""Regression tests for issue 11: each cause of a crash, an unlocated error,
a quadratic parse or an unsafe write found by fuzzing the plan text."""

from __future__ import annotations

import errno
import logging
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import plan_text, write_plan
from mutator import outcome

from flows import cli
from flows.cli import _exit_on_signal, filesystem_error
from kehoach.core.errors import KehoachError
from kehoach.core.files import atomic_write, clean_leftovers, exclusive_lock, link_or_copy_tree, swap_in
from kehoach.core.model import money_digits
from kehoach.core.text import lines_holding, slug
from kehoach.parse.corpus import parse_sources
from kehoach.parse.narrative import indicators
from kehoach.parse.values import check_amount, last_day_of_month, parse_deadline, parse_number, small_int, to_million
from kehoach.read.sources import discover, read_source


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.CRITICAL)


def _edit(text: str, after: str, old: str, new: str) -> tuple[str, int]:
    """Replace the first ``old`` on a line after the first line containing
    ``after``; returns the text and the (1-based) number of the edited line."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if after in line)
    n = next(i for i in range(start + 1, len(lines)) if re.search(old, lines[i]))
    lines[n] = re.sub(old, new, lines[n], count=1)
    return "\n".join(lines), n + 1


def _budget_amount_line(text: str) -> tuple[str, str]:
    """The anchor of the budget appendix (its unit line) and a pattern for one of its amounts."""
    return "ĐVT", r"(?<=\| )\d{1,3}(?:\.\d{3})+(?= \|)"


# --- numbers, dates and years: located where they are read --------------------------------

@pytest.mark.parametrize("amount", ["9" * 21, "9" * 29, "1" * 5000])
def test_an_amount_over_the_schema_limit_is_refused_on_its_line(tmp_path, amount):
    anchor, pattern = _budget_amount_line(plan_text())
    text, line = _edit(plan_text(), anchor, pattern, amount)
    result = outcome(text, tmp_path / "plan.txt")
    assert result.kind == "located", result
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:{line}: ")
    assert "digits" in result.detail


def test_the_amount_limit_is_the_schemas():
    integer_digits, scale = money_digits()
    assert (integer_digits, scale) == (14, 6)  # DECIMAL(20,6) in schemas/*.schema.json
    assert check_amount(Decimal("9" * integer_digits)) == Decimal("9" * integer_digits)
    with pytest.raises(KehoachError, match="more than 14 digits before the decimal point"):
        check_amount(Decimal("1" + "0" * integer_digits))
    with pytest.raises(KehoachError, match="more than 6 decimals"):
        to_million(Decimal("1.5"), Decimal("0.000001"))  # 1,5 đồng is 0.0000015 million VND
    assert to_million(Decimal("1234"), Decimal("1000")) == Decimal("1234000")


def test_numbers_too_long_for_exact_decimals_and_int64_are_refused():
    with pytest.raises(KehoachError, match="more than 28 digits"):
        parse_number("1" * 1_000_000)
    assert small_int("9223372036854775807") == 2**63 - 1
    assert small_int("9223372036854775808") is None
    assert small_int("9" * 5000) is None


@pytest.mark.parametrize("cell", ["Năm 0000", "0000-0000", "Quý IV/0000", "12/0000", "31/02/2024", "13/2024"])
def test_impossible_deadlines_are_refused_with_a_message(cell):
    with pytest.raises(KehoachError, match=r"not a (calendar|month)"):
        parse_deadline(cell)


def test_year_zero_is_no_month():
    with pytest.raises(KehoachError, match="not a calendar month: '12/0000'"):
        last_day_of_month(0, 12, "12/0000")


def test_an_impossible_deadline_in_the_task_table_names_its_line(tmp_path):
    # the last cell of a task row is its deadline: 'd/m/yyyy' becomes 'Quý IV/0000'
    text, line = _edit(plan_text(), "PHỤ LỤC 1", r"\d{1,2}/\d{1,2}/\d{4} \|\s*$", "Quý IV/0000 |")
    result = outcome(text, tmp_path / "plan.txt")
    assert result.kind == "located", result
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:{line}: not a calendar month: 'quý iv/0000'")


@pytest.mark.parametrize("code", ["9" * 32, "1." + "9" * 5000])
def test_a_row_number_beyond_int64_is_refused_as_too_large(tmp_path, code):
    text, line = _edit(plan_text(), "PHỤ LỤC 2", r"^\d+\.\d+", code)
    result = outcome(text, tmp_path / "plan.txt")
    assert result.kind == "located", result
    shown = code if len(code) <= 24 else code[:20] + "…"
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:{line}: row number {shown} is too large "
                                    "(each level at most 9,223,372,036,854,775,807)")


def test_a_year_named_twice_in_a_header_is_the_headers_fault_not_the_audits(tmp_path):
    lines = plan_text().split("\n")
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("Năm ") and "| Năm " in text)
    years = re.findall(r"Năm \d{4}", lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(years[1], years[0])
    result = outcome("\n".join(lines), tmp_path / "plan.txt")
    assert result.kind == "located", result
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:{line}: header names the amount column")
    assert f"{years[0]}' twice" in result.detail and ".sql" not in result.detail


def test_a_related_list_number_beyond_int64_names_its_line(tmp_path):
    text = f"- {'9' * 5000} Quyết định 1/QĐ-UBND năm 2020 về việc thử\n{plan_text()}"
    result = outcome(text, tmp_path / "plan.txt")
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:1: list number 99999999999999999999… is too large")


def test_a_20_digit_list_number_is_refused_on_its_line_by_the_parse_and_by_inspect(tmp_path, capsys):
    text = f"- {'1' * 20} Quyết định 1/QĐ-UBND năm 2020 về việc thử\n{plan_text()}"
    result = outcome(text, tmp_path / "plan.txt")
    message = f"{tmp_path / 'plan.txt'}:1: list number {'1' * 20}… is too large"
    assert result.kind == "located" and result.detail.startswith(message), result
    assert cli.main(["inspect", str(tmp_path / "plan.txt")]) == 2
    assert capsys.readouterr().err.startswith(message)


def _law(k: int) -> str:
    """A law's name of its own for each ``k`` (letters, no digit: a digit would make it a number)."""
    word = ""
    while True:
        word, k = "abcdefghiklmnopqrstuvxy"[k % 23] + word, k // 23
        if not k:
            return f"Luật Thử nghiệm {word}"


def _with_laws(count: int) -> str:
    """The plan, its related list led by ``count`` distinct laws, its body citing the last by name."""
    lines = plan_text().split("\n")
    body = next(i for i, x in enumerate(lines) if x == "Phần II")
    name = _law(count)
    cite = f"- Theo ({name.lower()}), {name.upper()}; không phải {name}a."
    return "\n".join([*(f"- {k} {_law(k)} 2020" for k in range(1, count + 1)), *lines[:body], cite, *lines[body:]])


def test_laws_known_by_name_are_found_by_one_scan_not_a_pattern_compiled_for_each(tmp_path, monkeypatch):
    """A related list of many distinct laws: each law's name is found where the body cites it (any case,
    after a bracket, not inside a longer number); the patterns compiled do not grow with the laws."""
    compiled: dict[int, set[str]] = {}
    real_compile = re._compile
    for count in (20, 60):
        path = write_plan(tmp_path, _with_laws(count), f"plan-{count}.txt")
        source = read_source(path)
        parse_sources([source])  # every pattern compiled once per process is compiled by now
        seen = compiled.setdefault(count, set())

        def counting(pattern, flags, seen=seen):
            seen.add(str(pattern))
            return real_compile(pattern, flags)

        monkeypatch.setattr(re, "_compile", counting)
        tables = parse_sources([source])
        monkeypatch.setattr(re, "_compile", real_compile)
        line = next(i for i, x in enumerate(source.lines, 1) if x.startswith("- Theo (luật"))
        cited = [(r["reference_text"], r["match"], r["doc_id"]) for r in tables["citations"].to_pylist()
                 if r["source_line"] == line]
        name, doc_id = _law(count), slug(f"{_law(count)} 2020")
        assert cited == [(name.lower(), "name", doc_id), (name.upper(), "name", doc_id)]
    assert len(compiled[60]) == len(compiled[20]) < 20, compiled[60] - compiled[20]


def _with_figures(count: int) -> tuple[str, int]:
    """The plan with one assessment paragraph of ``count`` figures, each with a subject of its own, as the
    first paragraph of Part I; and the (1-based) number of that line."""
    lines = plan_text().split("\n")
    at = next(i for i in range(next(i for i, x in enumerate(lines) if x.startswith("Phần ")), len(lines))
              if lines[i].startswith("- "))
    line = "- " + "; ".join(f"Tỷ lệ {_law(k)[len('Luật '):].lower()} đạt {k % 97 + 1}%, hơn {k + 1} lượt người"
                            for k in range(count))
    return "\n".join([*lines[:at], line + ".", *lines[at:]]), at + 1


def test_a_paragraph_of_thousands_of_figures_is_read_by_looking_at_each_ones_words(tmp_path, monkeypatch):
    """Each figure of a paragraph is read from the few words around it: the texts its reading looks at do
    not grow with the paragraph (they were the whole text before and after it, copied and folded)."""
    text, line = _with_figures(300)
    rows = [r for r in parse_sources([read_source(write_plan(tmp_path, text))])["indicators"].to_pylist()
            if r["source_line"] == line]
    assert len(rows) == 600
    assert [(r["value"], r["unit_text"], r["subject"]) for r in (rows[0], rows[-2])] == [
        (Decimal(1), "%", f"Tỷ lệ {_law(0)[len('Luật '):].lower()}"),
        (Decimal(299 % 97 + 1), "%", f"Tỷ lệ {_law(299)[len('Luật '):].lower()}")]
    assert (rows[-1]["value"], rows[-1]["unit_text"], rows[-1]["qualifier_text"]) == (Decimal(300), "lượt người", "hơn")
    read: dict[int, int] = {}
    for count in (30, 300):
        paragraph = _with_figures(count)[0].split("\n")[line - 1]
        longest = 0

        def measuring(helper):
            def measured(text, *args):
                nonlocal longest
                longest = max(longest, len(text))
                return helper(text, *args)
            return measured

        with monkeypatch.context() as patched:
            for name in ("ends_with_word", "starts_with_word", "_unit_after", "_trim_fillers", "_unit_span"):
                patched.setattr(indicators, name, measuring(getattr(indicators, name)))
            assert len(indicators.figures(paragraph)) == 2 * count
        read[count] = longest
    assert read[300] == read[30] < 100, read


def test_a_footnote_continued_over_many_lines_is_one_note_of_its_first_line(tmp_path):
    lines = plan_text().rstrip("\n").split("\n")
    text = "\n".join([*lines, "[9] Ghi chú", *(f"dòng {k}" for k in range(2000))])
    tables = parse_sources([read_source(write_plan(tmp_path, text))])
    note = tables["footnotes"].to_pylist()[-1]
    assert (note["marker"], note["source_line"]) == ("9", len(lines) + 1)
    assert note["text"] == "Ghi chú " + " ".join(f"dòng {k}" for k in range(2000))


def _in_first_table(block: list[str]) -> tuple[str, int]:
    """The plan with ``block`` (whole rows of its first appendix table, 4 cells wide) before the second
    appendix; and the (1-based) line where the block starts."""
    lines = plan_text().split("\n")
    at = [i for i, x in enumerate(lines) if x.strip().upper().startswith("PHỤ LỤC")][1]
    return "\n".join([*lines[:at], *block, *lines[at:]]), at + 1


def test_a_table_of_many_short_lines_reads_each_row_on_its_line(tmp_path):
    """'1.k | text |' then two empty cells, then empty rows ('|' lines): the shape of millions of short
    lines, small. Each numbered row is a task on its own line; the empty rows are no rows."""
    rows = 300
    block = [line for k in range(1, rows + 1) for line in (f"12.{k} | Việc {k} |", "|", "|", *["|"] * 8)]
    text, first = _in_first_table(block)
    plain = parse_sources([read_source(write_plan(tmp_path, plan_text(), "plain.txt"))])
    tables = parse_sources([read_source(write_plan(tmp_path, text))])
    added = [r for r in tables["tasks"].to_pylist() if r["name"].startswith("Việc ")]
    assert tables["tasks"].num_rows == plain["tasks"].num_rows + rows
    assert [(r["task_code_text"], r["name"], r["source_line"]) for r in added[::299]] == [
        ("12.1", "Việc 1", first), ("12.300", "Việc 300", first + 299 * 11)]


def test_a_cell_wrapped_over_thousands_of_lines_is_one_cell_of_its_first_line(tmp_path):
    text, first = _in_first_table(["12.1 | Việc", *(f"tiếp {k}" for k in range(3000)), "| Sở Nội vụ | 2024 |"])
    tables = parse_sources([read_source(write_plan(tmp_path, text))])
    task = next(r for r in tables["tasks"].to_pylist() if r["task_code_text"] == "12.1")
    assert task["name"] == "Việc " + " ".join(f"tiếp {k}" for k in range(3000))
    assert (task["source_line"], task["agencies_text"], task["deadline_text"]) == (first, "Sở Nội vụ", "2024")


def test_text_after_an_empty_markdown_row_is_refused_on_its_line_not_a_crash(tmp_path):
    table = ["PHỤ LỤC 9", "DANH MỤC", "| TT | Nội dung | Cơ quan chủ trì | Thời hạn |", "|---|---|---|---|",
             "| 1 | Việc | Sở Nội vụ | 2024 |", "|", "tiếp", ""]
    text, first = _in_first_table(table)
    result = outcome(text, tmp_path / "plan.txt")
    assert result.kind == "located", result
    assert result.detail.startswith(f"{tmp_path / 'plan.txt'}:{first + 6}: expected a row number")


def test_lines_holding_finds_the_lines_a_test_of_each_would():
    lines = ["", "a/b", "|", "ab", "x", "/", "", "ba", "a"]
    for words in (("/",), ("a",), ("ab", "/"), ("z",), ("",)[:0]):
        assert lines_holding(lines, words) == [n for n, x in enumerate(lines) if any(w in x for w in words)]
    assert lines_holding([], ("a",)) == []


def test_a_cited_number_of_5000_digits_is_read(tmp_path):
    text, _ = _edit(plan_text(), "Số:", r"Quyết định số \d+", f"Quyết định số {'7' * 5000}")
    assert outcome(text, tmp_path / "plan.txt").ok


def test_a_file_without_header_is_refused_on_a_line_inside_it(tmp_path):
    related = [x for x in plan_text().split("\n") if x.startswith("- ")][:5]
    path = write_plan(tmp_path, "\n".join(related) + "\n")
    with pytest.raises(KehoachError) as err:
        parse_sources([read_source(path)])
    assert err.value.line == len(related)
    assert err.value.message.startswith("no document header")


# --- input limits and non-regular files -----------------------------------------------------

def test_dev_zero_is_refused_as_not_a_regular_file():
    with pytest.raises(KehoachError, match="not a regular file"):
        read_source("/dev/zero")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "plan.txt"
    os.mkfifo(fifo)
    with pytest.raises(KehoachError, match="not a regular file"):
        read_source(fifo)


def test_file_size_line_length_and_file_count_limits(tmp_path, monkeypatch):
    path = write_plan(tmp_path, plan_text())
    monkeypatch.setenv("KEHOACH_MAX_FILE_BYTES", "1000")
    with pytest.raises(KehoachError, match="larger than 1,000 bytes"):
        read_source(path)
    monkeypatch.setenv("KEHOACH_MAX_FILE_BYTES", "0")  # no limit
    monkeypatch.setenv("KEHOACH_MAX_LINE_CHARS", "50")
    with pytest.raises(KehoachError) as err:
        read_source(path)
    assert err.value.line == next(i for i, x in enumerate(plan_text().split("\n"), 1) if len(x) > 50)
    monkeypatch.setenv("KEHOACH_MAX_FILES", "1")
    write_plan(tmp_path, plan_text(), "other.txt")
    with pytest.raises(KehoachError, match="more than 1 plan texts"):
        discover([tmp_path])
    monkeypatch.setenv("KEHOACH_MAX_FILES", "many")
    with pytest.raises(KehoachError, match="KEHOACH_MAX_FILES must be a whole number"):
        discover([tmp_path])


def test_a_newline_in_a_file_name_keeps_the_error_on_one_line(tmp_path):
    path = tmp_path / "bad\nname.txt"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KehoachError) as err:
        read_source(path)
    message = str(err.value)
    assert "\n" not in message
    assert "bad\\nname.txt" in message


# --- the file system --------------------------------------------------------------------------

def test_a_symlinked_lock_file_is_refused_and_its_target_kept(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / ".out.lock").symlink_to(victim)
    with pytest.raises(KehoachError, match="lock file is a symbolic link"), exclusive_lock(tmp_path / "out"):
        pass
    assert victim.read_text() == "keep me"


def test_a_symlinked_output_or_a_link_inside_it_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)
    with pytest.raises(KehoachError, match="is a symbolic link"), exclusive_lock(tmp_path / "out"):
        pass
    outside = tmp_path / "outside"
    outside.mkdir()
    (real / ".kehoach").symlink_to(outside)
    with pytest.raises(KehoachError, match="symbolic link inside the output") as err, exclusive_lock(real):
        pass
    assert err.value.path == str(real / ".kehoach")
    with pytest.raises(KehoachError, match="symbolic link"):
        link_or_copy_tree(real, tmp_path / "copy")
    assert list(outside.iterdir()) == []


def test_leftovers_of_dead_processes_are_cleaned_at_the_next_build(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    out = tmp_path / "out"
    out.mkdir()
    staging, old = tmp_path / f".out.staging-{pid}", tmp_path / f".out.old-{pid}"
    staging.mkdir()
    old.mkdir()
    alive = tmp_path / f".out.staging-{os.getppid()}"
    alive.mkdir()
    with exclusive_lock(out):
        pass
    assert not staging.exists() and not old.exists()
    assert alive.exists()  # a living process's directory is left alone
    assert clean_leftovers(out) == []


def test_disk_full_and_permission_errors_are_one_line_user_errors():
    full = filesystem_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "output/data/x.parquet"))
    assert str(full) == ("output/data/x.parquet: no space left on device: free some space and run again "
                         "(the previous package is unchanged)")
    denied = filesystem_error(PermissionError(errno.EACCES, os.strerror(errno.EACCES), "portal"))
    assert str(denied).startswith("portal: permission denied: check permissions")
    assert filesystem_error(OSError(errno.EIO, "I/O error")) is None
    # a failed write() names no file: the error is located in the output it was writing
    too_large = filesystem_error(OSError(errno.EFBIG, os.strerror(errno.EFBIG)), Path("output"))
    assert str(too_large) == ("output: file too large: raise the file-size limit (ulimit -f) or free some space "
                              "and run again (the previous package is unchanged)")


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path):
    (tmp_path / "state.json").mkdir()  # nothing can be renamed over a directory
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "state.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_swap_whose_second_rename_fails_puts_the_previous_package_back(tmp_path):
    out = tmp_path / "output"
    out.mkdir()
    (out / "datapackage.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        swap_in(tmp_path / ".output.staging-1", out)  # the staged package is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]
    assert (out / "datapackage.json").read_text(encoding="utf-8") == "{}"


def test_sigterm_exits_like_an_interrupt_so_cleanups_run():
    with pytest.raises(SystemExit) as stop:
        _exit_on_signal(15, None)
    assert stop.value.code == 143


def test_a_successful_read_warns_nothing_about_an_amended_text(tmp_path, capsys):
    path = write_plan(tmp_path, plan_text() + "\n")
    Path(tmp_path / "plan.origin.json").write_text('{"sha256": "0000"}', encoding="utf-8")
    read_source(path)
    assert capsys.readouterr().err == ""
