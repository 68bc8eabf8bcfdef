"""Plans read as issued: the plan of raw/ and another plan written as a Word document
and as a web page (tests/renderers.py, from their structure as the parser reads it)
read back into the same tables and findings as their texts."""

from __future__ import annotations

import io
import json
import unicodedata

import docx
import pytest
from docx.oxml import OxmlElement, parse_xml
from renderers import plan_structure, to_docx, to_html, to_odt
from sample_plans import OTHER_PLAN

from kehoach.audit.runner import run_audit
from kehoach.build import run_build
from kehoach.core.errors import KehoachError
from kehoach.parse.inspection import inspect_file
from kehoach.parse.plan import parse_source
from kehoach.read import web_page, word_document
from kehoach.read.document import Table, render
from kehoach.read.sources import discover, read_source, split_lines

WRITERS = {"docx": to_docx, "odt": to_odt, "html": to_html}
# What tells the file apart, not what it says: dropped before comparing tables.
PROVENANCE = ("source_file", "source_sha256", "source_line")


def comparable(tables) -> dict[str, list[dict]]:
    return {name: [{k: v for k, v in row.items() if k not in PROVENANCE} for row in table.to_pylist()]
            for name, table in tables.items()}


def written(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_source(path)


@pytest.fixture(scope="module")
def raw_plan(plan_source):
    return plan_structure(plan_source.lines, plan_source.path)


@pytest.fixture(scope="module")
def raw_findings(plan_tables):
    return run_audit(plan_tables).tables["findings"].to_pylist()


@pytest.mark.parametrize("kind", WRITERS)
def test_the_plan_of_raw_reads_as_its_text_tables_and_findings(tmp_path, kind, raw_plan, plan_source, plan_tables,
                                                               raw_findings):
    source = written(tmp_path, f"plan.{kind}", WRITERS[kind](raw_plan))
    library = {"docx": "python-docx", "odt": "lxml", "html": "lxml"}[kind]
    assert (source.format, source.reader.split()[0]) == (kind, library)
    assert source.lines == plan_source.lines  # the canonical text is the site's text, line for line
    tables = parse_source(source)
    assert comparable(tables) == comparable(plan_tables)
    assert tables["tasks"].num_rows and tables["budget_items"].num_rows and tables["investments"].num_rows
    findings = run_audit(tables).tables["findings"].to_pylist()
    assert findings == raw_findings and findings


@pytest.mark.parametrize("kind", WRITERS)
def test_another_plan_reads_as_its_text(tmp_path, kind):
    text = written(tmp_path, "other.txt", OTHER_PLAN.encode())
    source = written(tmp_path, f"other.{kind}", WRITERS[kind](plan_structure(text.lines)))
    tables = parse_source(source)
    assert comparable(tables) == comparable(parse_source(text))
    assert [t["name"] for t in tables["tasks"].to_pylist()][:2] == ["Triển khai nền tảng A", "Triển khai nền tảng B"]


def test_the_word_document_holds_merged_cells_footnotes_and_a_borderless_header(raw_plan):
    data = to_docx(raw_plan)
    document = word_document.read(data, "plan.docx")
    tables = [b for b in document.blocks if isinstance(b, Table)]
    cells = [c for t in tables for row in t.rows for c in row]
    assert any(c.header and c.row_span == 3 for c in cells)  # 'TT' over three header rows
    assert any(c.header and c.col_span == 4 for c in cells)  # the amounts' label over four columns
    assert any(not c.header and c.col_span == 3 for c in cells)  # a group row's name
    xml = docx.Document(io.BytesIO(data)).element.xml
    assert xml.count("<w:footnoteReference") == 2 and "w:vMerge" in xml and "w:gridSpan" in xml
    notes = [b.text for b in document.blocks if getattr(b, "footnote", False)]
    assert [n[:4] for n in notes] == ["[1] ", "[2] "]
    # the issuer and motto, written as one borderless row of stacked paragraphs with rules
    issuer, motto = tables[0].rows[0]
    assert (issuer.text, motto.text) == ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")


def _numbered_document() -> bytes:
    """A Word list: '%1.' then 'a)' under it, numbered by numbering.xml, and one paragraph
    naming a list the document does not define."""
    document = docx.Document()
    numbering = document.part.numbering_part.element
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    numbering.append(parse_xml(
        f'<w:abstractNum {w} w:abstractNumId="90"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="%1."/></w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
        '<w:lvlText w:val="%2)"/></w:lvl><w:lvl w:ilvl="2"><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/>'
        '</w:lvl></w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for text, level, num in [("Nhận thức số", 0, 90), ("Tổ chức Ngày Chuyển đổi số", 1, 90), ("Chia sẻ", 1, 90),
                             ("Hội thảo", 2, 90), ("Thể chế số", 0, 90), ("Rà soát quy định", 1, 90),
                             ("Không rõ số", 0, 77)]:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {w}><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr>'))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_numbering_is_written_back_and_an_undefined_list_is_said(tmp_path):
    document = word_document.read(_numbered_document(), "list.docx")
    assert render(document).lines == ("1. Nhận thức số", "a) Tổ chức Ngày Chuyển đổi số", "b) Chia sẻ", "- Hội thảo",
                                      "2. Thể chế số", "a) Rà soát quy định", "Không rõ số")
    assert document.notes == ("1 numbered paragraphs name a list numbering.xml does not define: read without "
                              "their numbers",)
    styled = docx.Document()  # numbered by the paragraph style (numPr in styles.xml), not the paragraph
    for text, style in [("Một", "List Number"), ("Hai", "List Number"), ("Chấm", "List Bullet"), ("Ba", "List Number")]:
        styled.add_paragraph(text, style=style)
    out = io.BytesIO()
    styled.save(out)
    assert render(word_document.read(out.getvalue(), "styled.docx")).lines == ("1. Một", "2. Hai", "- Chấm", "3. Ba")
    path = tmp_path / "list.docx"
    path.write_bytes(_numbered_document())
    assert {"line": 1, "message": document.notes[0]} in inspect_file(path).as_dict()["problems"]


def test_text_word_keeps_twice_is_read_once():
    """A text box's text is kept for Word (mc:Choice) and for older readers (mc:Fallback); a tracked
    move keeps the text where it was (w:moveFrom) and where it went (w:moveTo)."""
    document = docx.Document()
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    box = '<w:txbxContent><w:p><w:r><w:t>Dự thảo</w:t></w:r></w:p></w:txbxContent>'
    document.element.body.insert(0, parse_xml(
        f'<w:p {w} {mc}><w:r><w:t xml:space="preserve">Kế hoạch </w:t></w:r><w:r><mc:AlternateContent>'
        f'<mc:Choice Requires="wps">{box}</mc:Choice><mc:Fallback>{box}</mc:Fallback></mc:AlternateContent></w:r>'
        '<w:moveFrom w:id="1" w:author="a"><w:r><w:t> năm 2024</w:t></w:r></w:moveFrom>'
        '<w:moveTo w:id="2" w:author="a"><w:r><w:t> năm 2025</w:t></w:r></w:moveTo></w:p>'))
    out = io.BytesIO()
    document.save(out)
    assert render(word_document.read(out.getvalue(), "box.docx")).lines == ("Kế hoạch Dự thảo năm 2025",)


def test_rows_and_cells_inside_content_controls_are_read():
    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    for r, texts in enumerate([("TT", "Nội dung"), ("1", "Hạ tầng"), ("2", "Dữ liệu")]):
        for c, text in enumerate(texts):
            table.cell(r, c).text = text
    row, cell = table.rows[1]._tr, table.rows[2]._tr.tc_lst[1]
    for element in (row, cell):  # a form's content controls: one around a row, one around a cell
        control, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
        element.addprevious(control)
        content.append(element)
        control.append(content)
    out = io.BytesIO()
    document.save(out)
    lines = render(word_document.read(out.getvalue(), "form.docx")).lines
    assert lines == ("TT | Nội dung |", "1 | Hạ tầng |", "2 | Dữ liệu |")


def test_header_rows_without_word_marks_are_the_rows_above_the_first_numbered_one():
    document = docx.Document()
    table = document.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    table.cell(0, 0).merge(table.cell(1, 0)).text = "TT"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "Kinh phí"
    table.cell(1, 1).text, table.cell(1, 2).text = "Năm 2024", "Năm 2025"
    for c, text in enumerate(["1", "10", "20"]):
        table.cell(2, c).text = text
    table.cell(3, 0).text, table.cell(3, 2).text = "2", "5"
    out = io.BytesIO()
    document.save(out)
    lines = render(word_document.read(out.getvalue(), "t.docx")).lines
    assert lines == ("TT | Kinh phí | |", "Năm 2024 | Năm 2025 | |", "1 | 10 | 20 |", "2 |", "| 5 |")


def test_a_web_page_drops_its_chrome_and_reads_its_declared_charset():
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258"></head><body>'
            '<nav><a>Trang chủ</a></nav><div class="breadcrumb">Văn bản</div><script>x | y |</script>'
            '<h1>KẾ HOẠCH</h1><p>Dòng một<br>Dòng hai</p>'
            '<table border="1"><caption>Phụ lục</caption><tr><th>TT</th><th colspan="2">Kinh phí</th></tr>'
            '<tr><td rowspan="2">1</td><td>Bên</td><td>2</td></tr><tr><td>Hà</td><td>3</td></tr></table>'
            '<footer>© trang</footer></body></html>')
    document = web_page.read(b"".join(_cp1258(ch) for ch in page), "page.html")
    assert document.blocks[0].level == 1
    lines = tuple(unicodedata.normalize("NFC", line) for line in render(document).lines)
    assert lines == ("KẾ HOẠCH", "Dòng một", "Dòng hai", "Phụ lục", "TT | Kinh phí | |", "1 | Bên | 2 |",
                                      "| Hà | 3 |")


WORD_HTML = """<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><meta http-equiv=Content-Type content="text/html; charset=utf-8"><style>p.MsoNormal {margin:0}</style>
</head>
<body lang=EN-US><div class=WordSection1>
<table class=MsoNormalTable border=0 cellspacing=0 cellpadding=0 style='border-collapse:collapse'>
 <tr><td width=250 valign=top style='width:187.5pt;padding:0'><p class=MsoNormal align=center>
<b>ỦY BAN NHÂN DÂN<o:p></o:p></b></p>
 <p class=MsoNormal align=center><b>TỈNH QUẢNG NGÃI</b></p><p class=MsoNormal align=center>-------</p>
 <p class=MsoNormal align=center>Số: 219/KH-UBND</p></td>
 <td width=350 valign=top style='width:262.5pt;padding:0'><p class=MsoNormal align=center>
<b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b></p>
 <p class=MsoNormal align=center><b>Độc lập - Tự do - Hạnh phúc</b></p>
<p class=MsoNormal align=center>---------------</p>
 <p class=MsoNormal align=center><i>Quảng Ngãi, ngày 20 tháng 12 năm 2023</i></p></td></tr></table>
<p class=MsoListParagraph style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]>
<span>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span>
<![endif]>Nhận thức số<o:p></o:p></p>
<table class=MsoTableGrid border=0 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none'>
 <tr><td style='border:solid windowtext 1.0pt;padding:0'><p class=MsoNormal>TT</p></td>
<td style='border:solid windowtext 1.0pt;border-left:none'><p class=MsoNormal>Tên nhiệm vụ</p></td></tr>
 <tr><td style='border:solid windowtext 1.0pt'><p class=MsoNormal>1</p></td>
<td style='border:solid windowtext 1.0pt'><p class=MsoNormal>Hạ tầng</p><p class=MsoNormal>số</p></td></tr>
</table></div></body></html>"""


def test_a_word_html_export_reads_its_header_list_number_and_ruled_cells():
    """Word's export: a borderless header table of stacked paragraphs, a list number in a conditional
    comment, a table styled 'border:none' whose cells draw the rules (a cell of two paragraphs)."""
    lines = render(web_page.read(WORD_HTML.encode(), "plan.htm")).lines
    assert lines == ("ỦY BAN NHÂN DÂN | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |",
                     "TỈNH QUẢNG NGÃI | Độc lập - Tự do - Hạnh phúc |",
                     "Số: 219/KH-UBND | Quảng Ngãi, ngày 20 tháng 12 năm 2023 |",
                     "1. Nhận thức số", "TT | Tên nhiệm vụ |", "1 | Hạ tầng số |")


def _cp1258(ch: str) -> bytes:
    """A letter as Windows-1258 writes it: precomposed where it can, else a base letter and tone marks."""
    letter, *marks = unicodedata.normalize("NFD", ch)
    tries = [(ch, "")] + [(letter + marks[k], "".join(marks[:k] + marks[k + 1:])) for k in range(len(marks))]
    for base, rest in [*tries, (letter, "".join(marks))]:
        try:
            return unicodedata.normalize("NFC", base).encode("cp1258") + rest.encode("cp1258")
        except UnicodeEncodeError:
            continue
    raise AssertionError(ch)


def test_a_page_not_in_its_charset_is_refused_on_its_line():
    with pytest.raises(KehoachError) as err:
        web_page.read(b"<!DOCTYPE html>\n<html><body>\n<p>B\xean h\xa1n</p></body></html>", "page.html")
    assert str(err.value).startswith("page.html:3: the web page is not valid utf-8 (byte 0xea")


def test_the_format_is_told_by_content_not_by_name(tmp_path, raw_plan):
    assert written(tmp_path, "plan.txt", to_docx(raw_plan)).format == "docx"
    assert written(tmp_path, "plan.docx", "Kế hoạch\n".encode()).format == "text"
    for name in ("a.docx", "b.html", "c.htm", "d.md", "e.txt", "f.pdf", "g.odt", "h.doc", "i.json"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in discover([tmp_path]) if p.name[0] in "abcdefghi" and len(p.name) < 7] == [
        "a.docx", "b.html", "c.htm", "d.md", "e.txt", "f.pdf", "g.odt"]


def test_a_word_plan_builds_a_package_shipping_the_document_and_its_text(tmp_path, raw_plan, plan_tables):
    plan = tmp_path / "plans" / "qni-219.docx"
    plan.parent.mkdir()
    plan.write_bytes(to_docx(raw_plan))
    out = tmp_path / "out"
    run_build([plan], out)
    shipped = out / "source"
    assert (shipped / "qni-219.docx").read_bytes() == plan.read_bytes()
    assert split_lines((shipped / "qni-219.docx.txt").read_text(encoding="utf-8")) == read_source(plan).lines
    descriptor = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {k: descriptor["sources"][0][k] for k in ("path", "format", "text_path")} == {
        "path": "source/qni-219.docx", "format": "docx", "text_path": "source/qni-219.docx.txt"}
    media = {r["path"]: r["mediatype"] for r in descriptor["resources"] if r["path"].startswith("source/")}
    assert media == {"source/qni-219.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "source/qni-219.docx.txt": "text/plain"}
    report = inspect_file(plan).as_dict()
    assert (report["format"], report["pages"], report["reader"].split()[0]) == ("docx", None, "python-docx")
    assert report["parts"]["tasks"] == plan_tables["tasks"].num_rows
