"""DCAT-AP 3.0: the portal's catalogue and every dataset.jsonld conform to the SHACL shapes SEMIC
publishes (checked with pyshacl, RDFS inference), with absolute IRIs under the configured portal URL;
the CKAN fields carry the same vocabulary IRIs for ckanext-dcat."""

from __future__ import annotations

import json
from pathlib import Path

import pyshacl
import pytest
import rdflib
from helpers import copy_package
from rdflib import namespace as ns

from kehoach import build
from kehoach.core.files import sha256_file
from kehoach.publish import ckan_fields
from kehoach.publish.metadata import dataset_meta
from kehoach.publish.snapshot import open_package
from kehoach.publish.targets import publish

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "dcat-ap" / "dcat-ap-3.0-shacl.ttl"
NAME = "kehoach-quang-ngai-219-kh-ubnd-2023"
PORTAL = "https://data.example.gov.vn/kehoach/"
ORGANISATION = {"KEHOACH_PUBLISHER": "Cổng dữ liệu mở thử nghiệm", "KEHOACH_PUBLISHER_EMAIL": "opendata@example.gov.vn",
                "KEHOACH_PUBLISHER_URL": "https://example.gov.vn/"}
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
# where the plan was published, as given to the build (it overrides the origin record's address)
PAGE = "https://vanban.quangngai.gov.vn/van-ban/219-kh-ubnd-2023"


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    assert SHAPES.is_file(), f"the DCAT-AP shapes are expected at {SHAPES} (tests/fixtures/dcat-ap)"
    return rdflib.Graph().parse(SHAPES, format="turtle")


@pytest.fixture(scope="module")
def portal(tmp_path_factory, built_package) -> Path:
    """The package rebuilt for the organisation ORGANISATION at PORTAL, its plan given the address
    PAGE, published twice (two datasets in one catalogue)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KEHOACH_PORTAL_URL", PORTAL.rstrip("/"))  # the trailing slash is added
    for variable, value in ORGANISATION.items():
        mp.setenv(variable, value)
    root = tmp_path_factory.mktemp("dcat")
    package = copy_package(built_package, root / "output")
    try:
        source = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))["sources"][0]
        rebuilt = build.run_build([package / source["path"]], package, source_urls={"": PAGE})
        assert rebuilt.version == "1.0.1"  # the settings and the address changed
        publish(package, root / "portal")
        publish(package, root / "portal", dataset="second-copy")
    finally:
        mp.undo()
    return root / "portal"


def violations(graph: rdflib.Graph, shapes: rdflib.Graph) -> list[str]:
    _conforms, report, _text = pyshacl.validate(graph, shacl_graph=shapes, inference="rdfs")
    sh = ns.SH
    return [f"{report.value(r, sh.focusNode)} {report.value(r, sh.resultPath)}: {report.value(r, sh.resultMessage)}"
            for r in report.subjects(ns.RDF.type, sh.ValidationResult)
            if report.value(r, sh.resultSeverity) == sh.Violation]


def load(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="json-ld")


def test_catalog_and_datasets_conform_to_dcat_ap_3(portal, shapes):
    for path in (portal / "catalog.jsonld", *(portal / name / "dataset.jsonld" for name in (NAME, "second-copy"))):
        found = violations(load(path), shapes)
        assert found == [], f"{path.name}: {len(found)} violations, first: {found[:3]}"


def test_iris_are_absolute_under_the_portal_url(portal):
    graph = load(portal / "catalog.jsonld")
    catalog = rdflib.URIRef(PORTAL)
    assert (catalog, ns.RDF.type, ns.DCAT.Catalog) in graph
    datasets = set(graph.objects(catalog, ns.DCAT.dataset))
    assert datasets == {rdflib.URIRef(f"{PORTAL}{NAME}/"), rdflib.URIRef(f"{PORTAL}second-copy/")}
    tasks = rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.csv#distribution")
    assert graph.value(tasks, ns.DCAT.accessURL) == rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.csv")
    assert graph.value(tasks, ns.DCAT.downloadURL) == rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.csv")
    own = load(portal / NAME / "dataset.jsonld")  # the dataset's own file gives the same IRIs
    assert own.value(tasks, ns.DCAT.accessURL) == rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.csv")
    titles = {str(t) for t in graph.objects(catalog, ns.DCTERMS.title)}
    assert "kehoach open data" in titles and graph.value(catalog, ns.DCTERMS.description)
    assert graph.value(graph.value(catalog, ns.DCTERMS.publisher), ns.FOAF.name)


def test_every_distribution_is_typed_from_the_vocabularies(portal, built_package):
    graph = load(portal / NAME / "dataset.jsonld")
    dataset = rdflib.URIRef(f"{PORTAL}{NAME}/")
    distributions = list(graph.objects(dataset, ns.DCAT.distribution))
    desc = json.loads((built_package / "datapackage.json").read_text(encoding="utf-8"))
    assert len(distributions) == len(desc["resources"]) + 2  # + datapackage.json and the zip
    for d in distributions:
        assert graph.value(d, ns.DCAT.accessURL) and graph.value(d, ns.DCTERMS.license) == rdflib.URIRef(
            "https://creativecommons.org/licenses/by/4.0/")
        checksum = graph.value(d, SPDX.checksum)
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert graph.value(checksum, SPDX.checksumValue).datatype == rdflib.XSD.hexBinary
    tasks = rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.csv#distribution")
    assert graph.value(tasks, ns.DCAT.mediaType) == rdflib.URIRef(f"{IANA}text/csv")
    assert graph.value(tasks, ns.DCTERMS["format"]) == rdflib.URIRef(f"{EU}file-type/CSV")
    assert str(graph.value(graph.value(tasks, SPDX.checksum), SPDX.checksumValue)) == sha256_file(
        built_package / "data/tasks.csv")
    parquet = rdflib.URIRef(f"{PORTAL}{NAME}/data/tasks.parquet#distribution")
    assert graph.value(parquet, ns.DCTERMS["format"]) == rdflib.URIRef(f"{EU}file-type/PARQUET")
    assert graph.value(parquet, ns.DCAT.byteSize).toPython() == (built_package / "data/tasks.parquet").stat().st_size


def test_dataset_says_who_where_when_and_what(portal):
    graph = load(portal / NAME / "dataset.jsonld")
    dataset = rdflib.URIRef(f"{PORTAL}{NAME}/")
    assert set(graph.objects(dataset, ns.DCTERMS.language)) == {rdflib.URIRef(f"{EU}language/VIE"),
                                                           rdflib.URIRef(f"{EU}language/ENG")}
    assert rdflib.URIRef(f"{EU}data-theme/GOVE") in set(graph.objects(dataset, ns.DCAT.theme))
    # the publisher is the portal's organisation; the plan's issuer is the author of the source
    publisher = graph.value(dataset, ns.DCTERMS.publisher)
    assert {str(n) for n in graph.objects(publisher, ns.FOAF.name)} == {ORGANISATION["KEHOACH_PUBLISHER"]}
    assert graph.value(publisher, ns.FOAF.mbox) == rdflib.URIRef("mailto:opendata@example.gov.vn")
    assert graph.value(publisher, ns.FOAF.homepage) == rdflib.URIRef("https://example.gov.vn/")
    contact = graph.value(dataset, ns.DCAT.contactPoint)
    assert str(graph.value(contact, VCARD.fn)) == ORGANISATION["KEHOACH_PUBLISHER"]
    assert graph.value(contact, VCARD.hasEmail) == rdflib.URIRef("mailto:opendata@example.gov.vn")
    issuer = {"Ủy ban nhân dân tỉnh Quảng Ngãi", "People's Committee of Quang Ngai"}
    assert {str(n) for n in graph.objects(graph.value(dataset, ns.DCTERMS.creator), ns.FOAF.name)} == issuer
    source = graph.value(dataset, PROV.wasDerivedFrom)
    assert source == rdflib.URIRef(PAGE) and graph.value(dataset, ns.FOAF.page) == source  # the official source
    assert str(graph.value(source, ns.DCTERMS.identifier)) == "219/KH-UBND"
    assert {str(n) for n in graph.objects(graph.value(source, ns.DCTERMS.creator), ns.FOAF.name)} == issuer
    catalog_publisher = load(portal / "catalog.jsonld").value(rdflib.URIRef(PORTAL), ns.DCTERMS.publisher)
    assert catalog_publisher is not None
    places = list(graph.objects(dataset, ns.DCTERMS.spatial))
    labels = {str(label) for p in places for label in graph.objects(p, ns.SKOS.prefLabel)}
    assert "tỉnh Quảng Ngãi" in labels and rdflib.URIRef(f"{EU}country/VNM") in places
    period = graph.value(dataset, ns.DCTERMS.temporal)
    assert str(graph.value(period, ns.DCAT.startDate)) == "2024-01-01"
    assert str(graph.value(period, ns.DCAT.endDate)) == "2024-12-31"
    issued, modified = graph.value(dataset, ns.DCTERMS.issued), graph.value(dataset, ns.DCTERMS.modified)
    assert issued.datatype == modified.datatype == rdflib.XSD.dateTime
    # the package has a landing page (index.html), which dcat.LANDING_PAGES prefers to the README
    assert graph.value(dataset, ns.DCAT.landingPage) == rdflib.URIRef(f"{PORTAL}{NAME}/index.html")
    assert graph.value(dataset, ns.DCTERMS.conformsTo) == rdflib.URIRef("https://datapackage.org/standard/data-package/")


def test_ckan_fields_carry_the_same_iris_for_ckanext_dcat(built_package, tmp_path):
    with open_package(copy_package(built_package, tmp_path / "output"), validate=False) as snap:
        meta = dataset_meta(snap)
        extras = {e["key"]: e["value"] for e in ckan_fields.dataset_fields(meta, NAME, "org")["extras"]}
        tasks = ckan_fields.resource_fields(snap.file("tasks"), str(meta.licence["path"]))
    assert json.loads(extras["theme"])[0] == f"{EU}data-theme/GOVE"
    assert json.loads(extras["conforms_to"]) == ["https://datapackage.org/standard/data-package/"]
    assert extras["publisher_name"] == extras["contact_name"] == "kehoach"  # the default organisation
    assert extras["creator_name"] == "Ủy ban nhân dân tỉnh Quảng Ngãi"
    assert extras["creator_url"] == "https://www.quangngai.gov.vn"
    assert extras["spatial_text"] == "tỉnh Quảng Ngãi" and extras["issued"] == meta.created
    assert extras["access_rights"] == f"{EU}access-right/PUBLIC"
    assert tasks["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert tasks["hash_algorithm"] == "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
    assert json.loads(tasks["conforms_to"]) == ["https://datapackage.org/standard/table-schema/"]
