"""One module per SPL command; importing this package registers them all (see ``registry.py``)."""

from sqldetect.compile.commands import (  # noqa: F401
    bin,
    dedup,
    eval,
    fields,
    from_,
    head,
    rename,
    rex,
    search,
    sort,
    stats,
    table,
    tstats,
    where,
)
