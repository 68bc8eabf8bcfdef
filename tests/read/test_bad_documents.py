"""Hostile and mistaken documents: one located error each, bounded memory, nothing written."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from document_mutator import issued_as
from reportlab.pdfgen.canvas import Canvas
from sample_plans import OTHER_PLAN

from flows import cli
from kehoach.build import run_build
from kehoach.core.errors import KehoachError
from kehoach.read.document import MAX_SPAN
from kehoach.read.sources import read_source, split_lines


@pytest.fixture(scope="module")
def issued() -> dict[str, bytes]:
    """The small plan as each binary format and as a web page (tests/document_mutator.py)."""
    return {kind: issued_as(kind, split_lines(OTHER_PLAN)) for kind in ("docx", "odt", "pdf", "html")}


@pytest.fixture(scope="module")
def word_plan(issued) -> bytes:
    return issued["docx"]


def refused(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(KehoachError) as err:
        read_source(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message  # the file is the location: no line
    return message.removeprefix(f"{path}: ")


def rezipped(data: bytes, order) -> bytes:
    """The same archive with its entries written in another order."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in order(source.infolist()):
            target.writestr(info.filename, source.read(info))
    return out.getvalue()


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.99])
def test_a_truncated_word_or_opendocument_text_is_refused_as_cut_off(tmp_path, word_plan, issued, cut):
    message = refused(tmp_path, "plan.docx", word_plan[: int(len(word_plan) * cut)])
    assert message.startswith("the Word document is cut off or damaged: not a readable ZIP archive")
    odt = issued["odt"]
    message = refused(tmp_path, "plan.odt", odt[: int(len(odt) * cut)])
    assert message.startswith("the OpenDocument text is cut off or damaged: not a readable ZIP archive")


def test_flipped_bytes_in_a_word_document_are_refused_as_damage(tmp_path, word_plan):
    archive = zipfile.ZipFile(io.BytesIO(word_plan))
    body = archive.getinfo("word/document.xml")
    start = body.header_offset + 30 + len(body.filename) + 40  # inside the compressed body
    damaged = bytearray(word_plan)
    for k in range(start, start + 64):
        damaged[k] ^= 0xFF
    message = refused(tmp_path, "plan.docx", bytes(damaged))
    assert message.startswith("the Word document is damaged (")
    assert "save it again" in message


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_shuffled_zip_entries_read_the_same(tmp_path, kind):
    issued = issued_as(kind, split_lines(OTHER_PLAN))
    shuffled = rezipped(issued, lambda infos: random.Random(7).sample(infos, len(infos)))
    reversed_ = rezipped(issued, lambda infos: infos[::-1])
    assert zipfile.ZipFile(io.BytesIO(reversed_)).namelist()[0] != "mimetype"  # as ODF asks, it was first
    lines = [read_source(_written(tmp_path, f"p{k}.{kind}", d)).lines for k, d in enumerate((issued, shuffled,
                                                                                           reversed_))]
    assert lines[0] == lines[1] == lines[2] == split_lines(OTHER_PLAN)


def test_an_opendocument_spreadsheet_with_its_entries_reordered_is_refused_as_not_a_text(tmp_path, issued):
    kind = "application/vnd.oasis.opendocument.spreadsheet"
    source = zipfile.ZipFile(io.BytesIO(issued["odt"]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in reversed(source.infolist()):  # the mimetype last, deflated: told by its name only
            target.writestr(info.filename, kind if info.filename == "mimetype" else source.read(info))
    assert refused(tmp_path, "sheet.odt", out.getvalue()) == (
        f"an OpenDocument file that is not a text ({kind}): a spreadsheet, presentation or drawing?")


def _written(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# (the part a reader reads, the archive's other part and its content, the kind of document in messages)
_PARTS = {"docx": ("word/document.xml", ("[Content_Types].xml", "<Types/>"), "Word document"),
          "odt": ("content.xml", ("mimetype", "application/vnd.oasis.opendocument.text"), "OpenDocument text")}


def _bomb(declared: int, kind: str) -> bytes:
    """A .docx or .odt whose main part says it unpacks to ``declared`` bytes (its central directory
    lies: only a few bytes are there)."""
    main, other, _ = _PARTS[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(other[0]), other[1])  # stored, as ODF stores its mimetype
        archive.writestr(main, b"<document/>" + b" " * 4096)
    data = bytearray(out.getvalue())
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(main.encode()))  # its central directory entry
    struct.pack_into("<I", data, at + 24, declared)  # uncompressed size
    return bytes(data)


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path, kind):
    tracemalloc.start()
    message = refused(tmp_path, f"bomb.{kind}", _bomb(0xFFFF_FFF0, kind))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message == (f"the {_PARTS[kind][2]} unpacks to {0xFFFF_FFF0 + len(_PARTS[kind][1][1]):,} bytes, "
                       "more than 209,715,200 "
                       "(the limit KEHOACH_MAX_UNPACKED_BYTES)")
    assert peak < 5_000_000


def test_the_unpack_ratio_is_a_setting(tmp_path, monkeypatch, word_plan):
    zeros = io.BytesIO()
    with zipfile.ZipFile(zeros, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 5_000_000)  # deflates a thousand times
    message = refused(tmp_path, "zeros.docx", zeros.getvalue())
    assert "times its size, more than 100 (the limit KEHOACH_MAX_UNPACK_RATIO): a decompression bomb?" in message
    monkeypatch.setenv("KEHOACH_MAX_UNPACK_RATIO", "2")
    assert "more than 2 (the limit KEHOACH_MAX_UNPACK_RATIO)" in refused(tmp_path, "plan.docx", word_plan)
    monkeypatch.setenv("KEHOACH_MAX_UNPACK_RATIO", "0")  # no limit
    assert read_source(_written(tmp_path, "plan.docx", word_plan)).format == "docx"


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
     "binary data: a Word 97-2003 (.doc) or other OLE file, not read here; open it in Word or LibreOffice and "
     "save it as .docx (or as a UTF-8 .txt)"),
    ("protected.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "EncryptionInfo\0EncryptedPackage".encode(
        "utf-16-le") + b"\0" * 600,  # the directory of an OLE file holding an encrypted package (MS-OFFCRYPTO)
     "a password-protected Word document (its package encrypted); open it in Word, remove the password and save "
     "it as .docx"),
    ("plan.ods", b"PK\x03\x04" + b"\0" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
     "binary data: an OpenDocument spreadsheet, presentation or drawing, not a text document; accepted: .docx, "
     ".odt, .pdf, .html, .md or a UTF-8 .txt"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\x00",
     "binary data (byte 0x89 at offset 0), neither a text nor a format read here; accepted: .docx, .odt, .pdf, "
     ".html, .md or a UTF-8 .txt"),
    ("archive.zip", b"PK\x03\x04\x14\0\0\0\x08\0" + b"x" * 40,
     "binary data: a ZIP archive that is neither a Word document (.docx) nor an OpenDocument text (.odt); "
     "accepted: .docx, .odt, .pdf, .html, .md or a UTF-8 .txt"),
])
def test_a_file_no_reader_reads_is_refused_saying_what_to_do(tmp_path, name, data, expected):
    assert refused(tmp_path, name, data) == expected


def _encrypted_pdf(tmp_path) -> bytes:
    canvas = Canvas(str(tmp_path / "secret.pdf"), encrypt="mật khẩu")
    canvas.drawString(72, 720, "KE HOACH")
    canvas.save()
    return (tmp_path / "secret.pdf").read_bytes()


def _half_content(odt: bytes) -> bytes:
    """The text with its content.xml cut in half, zipped again (the archive whole, its XML not)."""
    source = zipfile.ZipFile(io.BytesIO(odt))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 2] if info.filename == "content.xml" else data)
    return out.getvalue()


def _pdf_bomb(inflated_mib: int) -> bytes:
    """A one-page PDF whose content stream is ``inflated_mib`` MiB of spaces, deflated (about a thousandth)."""
    deflate = zlib.compressobj(9)
    stream = b"".join(deflate.compress(b" " * (1 << 20)) for _ in range(inflated_mib)) + deflate.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%b\nendstream" % (len(stream), stream)]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    table = b"".join(b"%010d 00000 n \n" % at for at in offsets)
    return out + (b"xref\n0 %d\n0000000000 65535 f \n%btrailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(objects) + 1, table, len(objects) + 1, len(out)))


def test_a_pdf_whose_streams_unpack_beyond_the_limits_is_refused_before_one_is_inflated(tmp_path, monkeypatch):
    bomb = _pdf_bomb(300)
    tracemalloc.start()
    message = refused(tmp_path, "bomb.pdf", bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message.startswith("page 1: the PDF unpacks to 101 times its size, more than 100 (the limit "
                              "KEHOACH_MAX_UNPACK_RATIO)")
    assert peak < 5_000_000  # pdfminer would have held the 300 MiB page at once
    monkeypatch.setenv("KEHOACH_MAX_UNPACK_RATIO", "0")
    message = refused(tmp_path, "bomb.pdf", bomb)  # counted until just past the limit, then refused
    assert message.startswith("page 1: the PDF unpacks to 209,") and message.endswith(
        " bytes, more than 209,715,200 (the limit KEHOACH_MAX_UNPACKED_BYTES)")


# A damaged file of each binary format, and the start of its one line (after 'FILE:1: ', as inspect locates it).
DAMAGED = {
    "plan.docx": (lambda issued, tmp: issued["docx"][: len(issued["docx"]) // 2],
                  "the Word document is cut off or damaged: not a readable ZIP archive (File is not a zip file)"),
    "plan.odt": (lambda issued, tmp: _half_content(issued["odt"]), "the OpenDocument text is damaged ("),
    "bomb.odt": (lambda issued, tmp: _bomb(0xFFFF_FFF0, "odt"), "the OpenDocument text unpacks to 4,294,967,"),
    "plan.pdf": (lambda issued, tmp: issued["pdf"][: len(issued["pdf"]) // 3],
                 "page 1: not a readable PDF (PdfminerException: Unexpected EOF); the file is truncated or damaged"),
    # a page size that is no number: pdfplumber refuses the page tree (its close used to walk it again)
    "box.pdf": (lambda issued, tmp: issued["pdf"].replace(b"595.2756 841", b"595.2756 /v 841", 1),
                "page 1: not a readable PDF ("),
    "secret.pdf": (lambda issued, tmp: _encrypted_pdf(tmp), "page 1: the PDF is encrypted (password-protected)"),
    "bomb.pdf": (lambda issued, tmp: _pdf_bomb(300), "page 1: the PDF unpacks to 101 times its size, more than 100"),
    "page.html": (lambda issued, tmp: issued["html"][: issued["html"].find(b"<body")],
                  "the document (html) holds no text"),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_a_damaged_document_is_one_line_from_the_cli_and_the_build_writes_nothing(tmp_path, capsys, issued, name):
    damage, expected = DAMAGED[name]
    path = _written(tmp_path, name, damage(issued, tmp_path))
    assert cli.main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1: {expected}") and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(KehoachError) as caught:
        run_build([path], tmp_path / "out")
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert not (tmp_path / "out").exists()


def _part_edited(data: bytes, part: str, edit) -> bytes:
    """The archive with one part's XML edited (its other entries as they were)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, edit(source.read(info)) if info.filename == part else source.read(info))
    return out.getvalue()


# How each format states that a cell spans columns, put on the first cell of the first table.
SPANS = {
    "docx": lambda data, n: _part_edited(data, "word/document.xml", lambda xml: xml.replace(
        b"<w:tcPr>", b'<w:tcPr><w:gridSpan w:val="%d"/>' % n, 1)),
    "odt": lambda data, n: _part_edited(data, "content.xml", lambda xml: xml.replace(
        b"<table:table-cell", b'<table:table-cell table:number-columns-spanned="%d"' % n, 1)),
    "html": lambda data, n: data.replace(b"<td", b'<td colspan="%d"' % n, 1),
}


@pytest.mark.parametrize("kind", SPANS)
def test_a_cell_spanning_a_hundred_million_columns_reaches_no_further_than_max_span(tmp_path, issued, kind):
    widest = read_source(_written(tmp_path, f"widest.{kind}", SPANS[kind](issued[kind], MAX_SPAN))).lines
    hostile = read_source(_written(tmp_path, f"hostile.{kind}", SPANS[kind](issued[kind], 100_000_000))).lines
    assert hostile == widest and len(widest) > MAX_SPAN  # the span's columns are rendered, a thousand at most


_LAUGHS = (b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
           + b"".join(b'<!ENTITY %c "%b">' % (name, b"&%c;" % previous * 10) for previous, name in zip(
               b"abcdefg", b"bcdefgh", strict=True)) + b"]>")


@pytest.mark.parametrize(("kind", "part"), [("docx", "word/document.xml"), ("odt", "content.xml")])
def test_entities_that_expand_a_billion_times_are_refused_as_damage(tmp_path, issued, kind, part):
    laughs = _part_edited(issued[kind], part, lambda xml: xml.replace(b"?>", b"?>" + _LAUGHS, 1).replace(
        b"<w:t>" if kind == "docx" else b"<text:p>", b"<w:t>&h;" if kind == "docx" else b"<text:p>&h;", 1))
    message = refused(tmp_path, f"laughs.{kind}", laughs)
    assert "damaged (Maximum entity amplification factor exceeded" in message


def test_control_characters_in_a_document_are_spaces_and_deep_nesting_ends_cleanly(tmp_path):
    page = _written(tmp_path, "page.html", b"<html><body><p>K\xe1\xba\xbf ho\xe1\xba\xa1ch\x0bs\xe1\xbb\x91\x01 1</p>")
    assert read_source(page).lines == ("Kế hoạch số 1",)
    deep = _written(tmp_path, "deep.html", b"<html><body>" + b"<div><table><tr><td>" * 5000 + b"x")
    assert read_source(deep).format == "html"  # libxml2 stops at its depth limit: no recursion error


def test_a_macro_enabled_word_file_is_refused_saying_to_save_it_as_docx(tmp_path, word_plan):
    source = zipfile.ZipFile(io.BytesIO(word_plan))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                                    b"application/vnd.ms-word.document.macroEnabled.main+xml")
            target.writestr(info.filename, data)
    message = refused(tmp_path, "plan.docm", out.getvalue())
    assert message == ("a Word file that is not a document (application/vnd.ms-word.document.macroEnabled.main+xml): "
                       "a template (.dotx) or a macro-enabled file (.docm)? open it in Word and save it as .docx")
