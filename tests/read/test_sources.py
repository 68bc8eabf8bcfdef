import codecs
import hashlib
import unicodedata

import pytest

from kehoach.core.errors import KehoachError
from kehoach.read.sources import (
    SourceRecord,
    decode_source,
    describe,
    discover,
    origin_path,
    read_file,
    read_source,
    without_bytes,
)

TEXT = "Kế hoạch chuyển đổi số\nSố: 219/KH-UBND\n"


def test_utf8_with_and_without_bom_give_the_same_lines(tmp_path):
    plain = tmp_path / "a.txt"
    bom = tmp_path / "b.txt"
    plain.write_bytes(TEXT.encode("utf-8"))
    bom.write_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert read_source(plain).lines == read_source(bom).lines == ("Kế hoạch chuyển đổi số", "Số: 219/KH-UBND")
    assert read_source(bom).encoding == "utf-8-sig"


def test_utf16_with_bom_is_accepted(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes(TEXT.encode("utf-16"))  # Python writes the BOM
    source = read_source(path)
    assert source.encoding == "utf-16"
    assert source.lines[0] == "Kế hoạch chuyển đổi số"


@pytest.mark.parametrize(("name", "data", "encoding"), [
    ("plain.txt", TEXT.encode("utf-8"), "utf-8"),
    ("bom.txt", codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    ("u16le.txt", TEXT.encode("utf-16"), "utf-16"),
    ("u16be.txt", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
])
def test_a_described_source_is_the_decoded_one_without_its_lines(tmp_path, name, data, encoding):
    """What the package says of a source (the build describes it before it lets go of its bytes, without
    decoding it again) is what decoding it says, line aside."""
    path = tmp_path / name
    path.write_bytes(data)
    read = read_file(path)
    decoded = decode_source(read)
    assert decoded.lines[1] == "Số: 219/KH-UBND"
    assert describe(read) == SourceRecord(str(path), hashlib.sha256(data).hexdigest(), len(data), encoding)
    assert describe(read).encoding == decoded.encoding


def test_crlf_and_lone_cr_line_ends_are_normalised(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"a\r\nb\rc\n")
    assert read_source(path).lines == ("a", "b", "c")


def test_decomposed_text_is_normalised_to_nfc(tmp_path):
    path = tmp_path / "nfd.txt"
    path.write_bytes(unicodedata.normalize("NFD", TEXT).encode("utf-8"))
    line = read_source(path).lines[0]
    assert line == "Kế hoạch chuyển đổi số"
    assert unicodedata.is_normalized("NFC", line)


def test_legacy_code_page_is_refused_with_its_line(tmp_path):
    path = tmp_path / "cp1258.txt"
    path.write_bytes("dòng một\n".encode() + "Bên hơn Hà".encode("cp1258"))
    with pytest.raises(KehoachError) as err:
        read_source(path)
    assert str(err.value).startswith(f"{path}:2: not valid UTF-8 text")
    assert "Windows-1258" in str(err.value)


def test_binary_is_refused(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(KehoachError, match="binary data"):
        read_source(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("control", ["\x00", "\x08", "\x0b", "\x1b", "\x1f", "\x7f"])
def test_a_control_character_is_refused_on_its_line(tmp_path, encoding, control):
    path = tmp_path / "ctl.txt"
    # multi-byte letters, CR line ends and the allowed controls (tab, form feed) before it
    path.write_bytes(f"Kế hoạch\tsố\r\nđổi\x0cmới\rdòng ba {control} ở đây\n".encode(encoding))
    with pytest.raises(KehoachError) as err:
        read_source(path)
    assert str(err.value) == (f"{path}:2: binary data (control character U+{ord(control):04X}); "
                              "expected a plain-text plan")


def test_tab_form_feed_and_line_ends_are_text(tmp_path):
    path = tmp_path / "ok.txt"
    path.write_bytes(b"a\tb\x0cc\r\nd\re\n")
    assert read_source(path).lines == ("a\tb\x0cc", "d", "e")


def test_nfc_of_the_whole_text_is_the_nfc_of_each_line(tmp_path):
    """The text is normalised at once: combining marks at a line's start (after
    LF, CR or CRLF) must not compose with the letter ending the line before."""
    text = "Kê\u0301\n\u0301a\r\u0323o\r\n\u0300x " + unicodedata.normalize("NFD", TEXT)
    path = tmp_path / "marks.txt"
    path.write_bytes(text.encode())
    expected = tuple(unicodedata.normalize("NFC", x) for x in text.replace("\r\n", "\n").replace("\r", "\n")
                     .removesuffix("\n").split("\n"))
    assert read_source(path).lines == expected
    assert expected[:4] == ("Kế", "\u0301a", "\u0323o", "\u0300x Kế hoạch chuyển đổi số")


def test_utf16_without_bom_is_refused(tmp_path):
    path = tmp_path / "u16le.txt"
    path.write_bytes(TEXT.encode("utf-16-le"))
    with pytest.raises(KehoachError):
        read_source(path)


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(KehoachError, match="file is empty"):
        read_source(empty)
    with pytest.raises(KehoachError, match="no such file"):
        read_source(tmp_path / "missing.txt")


def test_origin_sidecar_is_read_and_hash_recorded(plan_source, plan_path):
    assert plan_source.origin["number"] == "219/KH-UBND"
    assert plan_source.origin["sha256"] == plan_source.sha256
    assert len(plan_source.sha256) == 64


def test_discover_lists_text_files_not_sidecars(plan_path):
    found = discover([plan_path.parent])
    assert plan_path in found
    assert all(p.suffix == ".txt" for p in found)


def test_reading_hashes_without_decoding_and_decoding_gives_the_located_error(tmp_path):
    path = tmp_path / "cp1258.txt"
    data = "dòng một\n".encode() + "Bên hơn Hà".encode("cp1258")
    path.write_bytes(data)
    read = read_file(path)  # a text that does not decode is still read and hashed
    assert (read.sha256, read.size, read.origin, read.origin_sha256) == (hashlib.sha256(data).hexdigest(),
                                                                        len(data), {}, None)
    with pytest.raises(KehoachError) as err:
        decode_source(read)
    assert str(err.value).startswith(f"{path}:2: not valid UTF-8 text")


def test_decoding_what_was_read_equals_reading_the_source(plan_path, plan_source):
    read = read_file(plan_path)
    assert read.sha256 == plan_source.sha256 and read.origin == plan_source.origin
    assert read.origin_sha256 == hashlib.sha256(origin_path(plan_path).read_bytes()).hexdigest()
    assert decode_source(read) == plan_source
    assert decode_source(read).origin_sha256 == read.origin_sha256


def test_an_origin_record_that_is_not_json_is_refused_when_read(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(TEXT, encoding="utf-8")
    origin_path(path).write_text("{not json", encoding="utf-8")
    with pytest.raises(KehoachError) as err:
        read_file(path)
    assert str(err.value).startswith(f"{origin_path(path)}: origin record is not valid JSON")


def test_a_source_let_go_of_is_read_again_when_decoded_and_must_be_the_same(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("KẾ HOẠCH\nChuyển đổi số năm 2024\n", encoding="utf-8")
    read = read_file(path)
    decoded = decode_source(read)
    sources = [without_bytes(read)]
    assert sources[0].data == b"" and sources[0].sha256 == decoded.sha256
    assert describe(sources[0]) == describe(read) == SourceRecord(str(path), read.sha256, read.size, "utf-8")
    assert decode_source(sources[0]).lines == decoded.lines == ("KẾ HOẠCH", "Chuyển đổi số năm 2024")
    path.write_text("KẾ HOẠCH\nChuyển đổi số năm 2025\n", encoding="utf-8")  # amended while a build reads it
    with pytest.raises(KehoachError, match="changed while the build was reading it") as error:
        decode_source(sources[0])
    assert error.value.path == str(path)
