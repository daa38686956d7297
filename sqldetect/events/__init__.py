"""The event side: read EVTX/JSON, normalize Windows events the way Splunk shows them, store them in DuckDB.

Public entry points: ``EventStore`` (load into / inspect a DuckDB event table), ``LoadReport`` (what a load
did, per file), ``default_windows_schema`` (the table's schema before anything is loaded).
"""

from sqldetect.events.report import FileReport, Issue, LoadReport
from sqldetect.events.store import EventStore
from sqldetect.events.windows_schema import default_windows_schema

__all__ = ["EventStore", "FileReport", "Issue", "LoadReport", "default_windows_schema"]
