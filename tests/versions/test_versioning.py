import copy

from kehoach.core.model import load_schema
from kehoach.versions.versioning import (
    bump,
    decide_data_level,
    input_fingerprint,
    metadata_changed,
    read_state,
    structural_changes,
    write_state,
)


def test_semantic_bumps():
    assert bump("1.0.0", "major") == "2.0.0"
    assert bump("1.4.2", "minor") == "1.5.0"
    assert bump("1.4.2", "patch") == "1.4.3"


def test_decisions():
    assert decide_data_level(None, [], []).version == "1.0.0"
    assert decide_data_level("1.2.0", ["tasks"], [{"x": 1}]).level == "major"
    assert decide_data_level("1.2.0", [], [{"x": 1}]).version == "1.3.0"
    assert decide_data_level("1.2.0", [], []).version == "1.2.1"


def test_structure_ignores_descriptions_but_not_types():
    old = {"tasks": load_schema("tasks")}
    reworded = copy.deepcopy(old)
    reworded["tasks"]["fields"][0]["description"] = "Another wording"
    assert structural_changes(old, reworded) == []
    retyped = copy.deepcopy(old)
    retyped["tasks"]["fields"][0]["type"] = "integer"
    assert structural_changes(old, retyped) == ["tasks"]
    assert structural_changes(old, {}) == ["tasks"]


def test_metadata_changes_ignore_build_time_fields():
    desc = {"name": "p", "title": "T", "version": "1.0.0", "created": "2026-01-01T00:00:00Z",
            "resources": [{"name": "a", "hash": "sha256:1", "title": "A"}]}
    rebuilt = dict(desc, version="1.0.1", created="2026-02-01T00:00:00Z",
                   resources=[{"name": "a", "hash": "sha256:2", "title": "A"}])
    assert not metadata_changed(desc, rebuilt)
    assert metadata_changed(desc, dict(rebuilt, title="T2"))


def test_fingerprint_depends_on_source_bytes_not_on_folder():
    a = input_fingerprint({"/x/raw/plan.txt": "aa"})
    assert a == input_fingerprint({"/elsewhere/plan.txt": "aa"})
    assert a != input_fingerprint({"/x/raw/plan.txt": "ab"})


def test_state_round_trip(tmp_path):
    assert read_state(tmp_path) == {}
    write_state(tmp_path, {"inputs": "abc", "version": "1.0.0"})
    assert read_state(tmp_path) == {"inputs": "abc", "version": "1.0.0"}
