"""What a run means, read from its record alone: the judge, the summary, timelines, explanations,
and one writer per output format."""

from ._explain import ExplainError, Explanation, as_json, explain_lead, read_record, render
from ._judge import AgencyLoad, PlotOutcome, Summary, judge, summarise
from ._timeline import Row, inject_timeline, run_timeline

__all__ = [
    "AgencyLoad",
    "ExplainError",
    "Explanation",
    "PlotOutcome",
    "Row",
    "Summary",
    "as_json",
    "explain_lead",
    "inject_timeline",
    "judge",
    "read_record",
    "render",
    "run_timeline",
    "summarise",
]
