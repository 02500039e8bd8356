"""The field's formats: STIX 2.1 and MISP out (and MISP in), MSEL spreadsheets, and JSON Schemas.

Exports read a scenario, or a run directory through :func:`load_source` (``tearline.report`` reads
the record); the package sits above ``tearline.report`` and below ``tearline.cli``."""

from ._misp import (
    DISTRIBUTION,
    NOT_MAPPED,
    MispImport,
    injects_from_misp,
    injects_yaml,
    misp_event,
    misp_events,
    misp_json,
)
from ._msel import (
    AGENCY_COLUMNS,
    EVENT_COLUMNS,
    PLOT_COLUMNS,
    msel_csv,
    msel_rows,
    skeleton_from_msel,
    skeleton_yaml,
    write_msel_xlsx,
)
from ._schema import SCHEMA_NAMES, json_schema, schema_text, shipped_schema, write_schemas
from ._source import Source, load_source
from ._stix import HANDLING_EXTENSION, TLP_MARKINGS, stix_bundle, validate_stix

__all__ = [
    "AGENCY_COLUMNS",
    "DISTRIBUTION",
    "EVENT_COLUMNS",
    "HANDLING_EXTENSION",
    "NOT_MAPPED",
    "PLOT_COLUMNS",
    "SCHEMA_NAMES",
    "TLP_MARKINGS",
    "MispImport",
    "Source",
    "injects_from_misp",
    "injects_yaml",
    "json_schema",
    "load_source",
    "misp_event",
    "misp_events",
    "misp_json",
    "msel_csv",
    "msel_rows",
    "schema_text",
    "shipped_schema",
    "skeleton_from_msel",
    "skeleton_yaml",
    "stix_bundle",
    "validate_stix",
    "write_msel_xlsx",
    "write_schemas",
]
