"""What a load did, per input file: records loaded, skipped (and why, and where), duplicates.

Bad input never aborts a load, so the report is where damage becomes visible: every skipped record or chunk is
counted against its file with a location (``chunk 3``, ``record 6335011``, ``line 17``) and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_ISSUES_KEPT = 50  # per file; the counts stay exact beyond it


@dataclass(frozen=True)
class Issue:
    """One problem in one input: ``where`` inside the file, ``reason`` what was wrong."""

    where: str
    reason: str
    records: int = 1  # how many records the problem cost (0: none lost, e.g. an unparsable timestamp)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


@dataclass
class IssueLog:
    """Issues of one task, collected where they happen (possibly in a worker process)."""

    issues: list[Issue] = field(default_factory=list)
    skipped: int = 0
    dropped_issues: int = 0

    def add(self, where: str, reason: str, records: int = 1) -> None:
        self.skipped += records
        if len(self.issues) < MAX_ISSUES_KEPT:
            self.issues.append(Issue(where, reason, records))
        else:
            self.dropped_issues += 1

    def note(self, where: str, reason: str) -> None:
        """A problem that cost no record (kept for the report, not counted as skipped)."""
        self.add(where, reason, records=0)

    def extend(self, other: IssueLog) -> None:
        self.skipped += other.skipped
        room = MAX_ISSUES_KEPT - len(self.issues)
        self.issues.extend(other.issues[:room])
        self.dropped_issues += other.dropped_issues + max(0, len(other.issues) - room)


@dataclass
class FileReport:
    """The outcome for one input (a file, a file inside a directory, or stdin)."""

    path: str
    format: str
    parser: str = ""
    read: int = 0  # records decoded and normalized
    loaded: int = 0  # records inserted
    duplicates: int = 0  # records already in the table (or earlier in this load)
    log: IssueLog = field(default_factory=IssueLog)

    @property
    def skipped(self) -> int:
        return self.log.skipped

    @property
    def issues(self) -> list[Issue]:
        return self.log.issues


@dataclass
class LoadReport:
    """The whole load: one ``FileReport`` per input file, in input order."""

    table: str
    files: list[FileReport] = field(default_factory=list)
    elapsed: float = 0.0
    workers: int = 1

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def records_per_second(self) -> float:
        return self.read / self.elapsed if self.elapsed > 0 else 0.0

    def render(self, max_issues: int = 5) -> str:
        """A plain-text table: one line per file, its first issues under it, then the totals."""
        width = max([len(f.path) for f in self.files] + [4])
        lines = [f"{'file':<{width}}  {'format':<6}  {'loaded':>9}  {'duplicate':>9}  {'skipped':>8}"]
        for f in self.files:
            lines.append(f"{f.path:<{width}}  {f.format:<6}  {f.loaded:>9}  {f.duplicates:>9}  {f.skipped:>8}")
            for issue in f.issues[:max_issues]:
                lines.append(f"    {issue}")
            hidden = len(f.issues) - max_issues + f.log.dropped_issues
            if hidden > 0:
                lines.append(f"    ... and {hidden} more issues")
        lines.append(
            f"total: {self.loaded} loaded, {self.duplicates} duplicates, {self.skipped} skipped "
            f"from {len(self.files)} files into table {self.table!r} in {self.elapsed:.2f} s "
            f"({self.records_per_second:,.0f} records/s)"
        )
        return "\n".join(lines)
