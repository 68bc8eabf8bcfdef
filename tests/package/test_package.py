"""Writing, validating and swapping in the package (without Prefect)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import copy_package

from kehoach import build
from kehoach.core.errors import KehoachError
from kehoach.core.files import recover, swap_in
from kehoach.core.model import resource_names


@pytest.fixture(scope="module")
def package(tmp_path_factory, built_package):
    """The session's package of the plan, copied: a staging folder is made beside it."""
    return copy_package(built_package, tmp_path_factory.mktemp("pkg") / "output")


def test_every_resource_in_csv_and_parquet(package):
    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in desc["resources"]}
    for name in resource_names():
        assert {name, f"{name}-parquet"} <= names
        assert (package / "data" / f"{name}.csv").exists()
        assert (package / "data" / f"{name}.parquet").exists()


def test_descriptor_metadata_is_bilingual_and_sourced(package, plan_source):
    desc = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert desc["name"] == "kehoach-quang-ngai-219-kh-ubnd-2023"
    assert desc["title_vi"].startswith("Kế hoạch chuyển đổi số tỉnh Quảng Ngãi năm 2024")
    assert desc["title_en"].startswith("Quang Ngai province digital transformation plan for 2024")
    assert desc["licenses"][0]["name"] == "CC-BY-4.0"
    assert desc["sources"][0]["hash"] == f"sha256:{plan_source.sha256}"
    assert desc["version"] == "1.0.0" and desc["created"].endswith("Z")
    tasks = next(r for r in desc["resources"] if r["name"] == "tasks")
    assert tasks["title_vi"] == "Nhiệm vụ và phân công" and tasks["rows"] == 74
    field = next(f for f in tasks["schema"]["fields"] if f["name"] == "deadline_kind")
    assert field["title_vi"] == "Loại thời hạn"


def test_csv_keeps_dash_and_blank_apart_and_decimals_exact(package):
    with (package / "data" / "budget_lines.csv").open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    item_12 = {(r["budget_level"], r["expenditure_type"]): r for r in lines if r["item_code"] == "1.2"}
    assert item_12[("province", "recurrent")]["amount_million_vnd"] == "0"
    assert item_12[("province", "recurrent")]["stated_as"] == "dash"
    assert not [r for r in lines if r["item_code"] == "1.1" and r["expenditure_type"] == "investment"]
    with (package / "data" / "investment_lines.csv").open(encoding="utf-8") as handle:
        inv = [r for r in csv.DictReader(handle) if r["item_no"] == "2" and r["year"] == "2024"]
    assert inv[0]["amount_million_vnd"] == "8272.2" and inv[0]["amount_text"] == "8.272,20"


def test_parquet_types_are_exact(package):
    table = pq.read_table(package / "data" / "budget_lines.parquet")
    assert table.schema.field("amount_million_vnd").type == pa.decimal128(20, 6)
    tasks = pq.read_table(package / "data" / "tasks.parquet")
    assert tasks.schema.field("deadline_date").type == pa.date32()


def test_frictionless_cli_validates_the_package(package):
    result = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", str(package / "datapackage.json")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]


def test_invalid_package_leaves_the_previous_one_untouched(package, plan_source, plan_tables):
    before = (package / "datapackage.json").read_bytes()
    broken = dict(plan_tables)
    tasks = plan_tables["tasks"]
    broken["tasks"] = pa.concat_tables([tasks, tasks.slice(0, 1)])  # a duplicate primary key
    directory, _ = build.stage(broken, [plan_source], package)
    with pytest.raises(KehoachError) as err:
        build.validate_staged(directory, broken, [plan_source])
    message = str(err.value)
    assert message.startswith(f"{plan_source.path}:")  # located at the duplicated row's source line
    assert "primary" in message.lower()
    assert (package / "datapackage.json").read_bytes() == before
    assert not directory.exists()
    assert not list(package.parent.glob(".output.staging-*"))


def test_interrupted_swap_is_recovered(tmp_path):
    target, new = tmp_path / "out", tmp_path / "new"
    target.mkdir()
    (target / "v").write_text("old")
    new.mkdir()
    (new / "v").write_text("new")
    # Simulate a crash after the first rename of a swap.
    (tmp_path / "out").rename(tmp_path / ".out.old-99")
    recover(target)
    assert (target / "v").read_text() == "old"
    swap_in(new, target)
    assert (target / "v").read_text() == "new"
    assert not list(Path(tmp_path).glob(".out.old-*"))
