"""``python -m sqldetect.evtxwriter SOURCE -o OUT.evtx``: the ``sqldetect evtx-write`` command on its own."""

from sqldetect.cli.evtx_write import evtx_write

evtx_write(prog_name="python -m sqldetect.evtxwriter")
