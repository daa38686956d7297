"""``iplocation [prefix=] [allfields=] [lang=] field``: geolocate IP addresses.

sqldetect ships no GeoIP database, so the command adds its usual output fields (``City``, ``Country``,
``Region``, ``lat``, ``lon``; with ``allfields=true`` also ``Continent``, ``MetroCode``, ``Timezone``; each
with ``prefix=``) without values, and the query carries a note saying so. Rules that only display the
location keep working; rules that filter on it find nothing.
"""

from __future__ import annotations

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import null
from sqldetect.compile.typed import Typed
from sqldetect.spl import ast

FIELDS = ("City", "Country", "Region", "lat", "lon")
ALL_FIELDS = (*FIELDS, "Continent", "MetroCode", "Timezone")
NOTE = "iplocation: no GeoIP database is available, so City, Country, Region, lat and lon are left empty"


@command("iplocation")
def iplocation(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Add the location fields (empty: there is no GeoIP database; a note says so)."""
    ctx.check_options({"prefix", "allfields", "lang"})
    if len(cmd.words) != 1 or cmd.subsearches:
        raise ctx.error("iplocation takes one IP address field")
    prefix = cmd.option("prefix") or ""
    names = ALL_FIELDS if ctx.flag("allfields", False) else FIELDS
    ctx.note(NOTE)
    return ctx.with_changes([(prefix + name, Typed(null(), Kind.NULL)) for name in names])
