"""What a run means, read from its record alone: the judge, the summary, timelines, explanations,
and one writer per output format."""

from ._audit import (
    AUDIT_FILE,
    AuditInputError,
    AuditSeal,
    AuditVerdict,
    cosign,
    head_statement,
    seal_audit,
    seal_head,
    verify_audit,
)
from ._comparison import plot_comparison, plot_tornado, read_parquet, write_csv, write_parquet, write_table
from ._explain import ExplainError, Explanation, as_json, explain_lead, render
from ._html import research_report, run_report, write_html
from ._judge import AgencyLoad, PlotOutcome, RequestTally, Summary, judge, summarise, tally_requests
from ._junit import CaseResult, write_junit
from ._rundir import RunDirError, read_record, summary_json, write_run
from ._timeline import Row, inject_timeline, run_timeline

__all__ = [
    "AUDIT_FILE",
    "AgencyLoad",
    "AuditInputError",
    "AuditSeal",
    "AuditVerdict",
    "CaseResult",
    "ExplainError",
    "Explanation",
    "PlotOutcome",
    "RequestTally",
    "Row",
    "RunDirError",
    "Summary",
    "as_json",
    "cosign",
    "explain_lead",
    "head_statement",
    "inject_timeline",
    "judge",
    "plot_comparison",
    "plot_tornado",
    "read_parquet",
    "read_record",
    "render",
    "research_report",
    "run_report",
    "run_timeline",
    "seal_audit",
    "seal_head",
    "summarise",
    "summary_json",
    "tally_requests",
    "verify_audit",
    "write_csv",
    "write_html",
    "write_junit",
    "write_parquet",
    "write_run",
    "write_table",
]
