import codecs
import unicodedata

import pytest

from kehoach.core.errors import KehoachError
from kehoach.read.sources import discover, read_source

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
