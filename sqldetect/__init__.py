"""sqldetect: run Splunk SPL detection rules as DuckDB SQL.

The public Python API is re-exported here as it lands (``translate``, ``Engine``).
"""

__version__ = "0.1.0"
