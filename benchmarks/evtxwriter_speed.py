"""Measure ``write_evtx`` speed and memory: records/s, bytes/record, peak RSS, and a read-back count.

    PYTHONPATH=. python benchmarks/evtxwriter_speed.py [--records 1000000] [--out /tmp/bench.evtx]

The events are a realistic mix (Sysmon process creation with named data, MsiInstaller with unnamed data,
Security 4624 logons) generated on the fly, so memory shows the writer's own footprint, not the input's.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqldetect.evtxwriter import write_evtx

SYSMON_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
SECURITY_GUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"


def events(count: int) -> Iterator[dict]:
    for n in range(count):
        second = n // 10
        stamp = f"2024-05-{1 + second // 86400 % 28:02d}T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:" \
                f"{second % 60:02d}.{n % 10 * 100000:06d}Z"
        host = f"WS{n % 50:02d}.corp.example"
        kind = n % 3
        if kind == 0:
            yield {
                "provider": "Microsoft-Windows-Sysmon", "provider_guid": SYSMON_GUID,
                "channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "version": 5, "task": 1,
                "keywords": 0x8000000000000000, "time": stamp, "computer": host, "process_id": 2400,
                "thread_id": 3100, "user_sid": "S-1-5-18",
                "data": {
                    "RuleName": "-", "UtcTime": stamp[:23].replace("T", " "),
                    "ProcessGuid": "{b0b0f4a2-1111-6631-0b00-000000001100}", "ProcessId": 4000 + n % 5000,
                    "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": f"cmd.exe /c echo {n}",
                    "CurrentDirectory": "C:\\Users\\alice\\", "User": "CORP\\alice",
                    "IntegrityLevel": "Medium", "Hashes": "SHA256=" + f"{n:064x}",
                    "ParentImage": "C:\\Windows\\explorer.exe", "ParentCommandLine": "C:\\Windows\\Explorer.EXE",
                },
            }
        elif kind == 1:
            yield {
                "provider": "MsiInstaller", "channel": "Application", "event_id": 1040, "qualifiers": 0,
                "time": stamp, "computer": host, "user_sid": "S-1-5-18",
                "data": [f"C:\\Windows\\Installer\\{n:x}.msi", str(1000 + n % 9000)],
            }
        else:
            yield {
                "provider": "Microsoft-Windows-Security-Auditing", "provider_guid": SECURITY_GUID,
                "channel": "Security", "event_id": 4624, "version": 2, "level": 0, "task": 12544,
                "keywords": "0x8020000000000000", "time": stamp, "computer": host, "process_id": 700,
                "thread_id": 800,
                "data": {
                    "SubjectUserSid": "S-1-5-18", "SubjectUserName": host.split(".")[0] + "$",
                    "SubjectDomainName": "CORP", "SubjectLogonId": "0x3e7", "TargetUserSid": "S-1-5-21-1-2-3-1104",
                    "TargetUserName": "alice", "TargetDomainName": "CORP", "TargetLogonId": f"0x{n:x}",
                    "LogonType": "3", "LogonProcessName": "NtLmSsp ", "AuthenticationPackageName": "NTLM",
                    "WorkstationName": "-", "IpAddress": f"10.0.{n % 250}.{n % 200}", "IpPort": "49152",
                },
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-readback", action="store_true", help="skip the evtx read-back count")
    args = parser.parse_args()
    out = args.out or Path(tempfile.gettempdir()) / "sqldetect-evtxwriter-bench.evtx"

    start = time.perf_counter()
    written = write_evtx(out, events(args.records))
    elapsed = time.perf_counter() - start
    size = out.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"records written   {written:,}")
    print(f"write time        {elapsed:.1f} s  ({written / elapsed:,.0f} records/s, event generation included)")
    print(f"file size         {size / 1e6:,.1f} MB  ({size / max(written, 1):.0f} bytes/record)")
    print(f"peak RSS          {peak_mb:,.0f} MB")
    if not args.no_readback:
        import evtx

        start = time.perf_counter()
        count = sum(1 for _ in evtx.PyEvtxParser(str(out), validate_checksums=True).records())
        print(f"evtx read-back    {count:,} records in {time.perf_counter() - start:.1f} s (checksums validated)")


if __name__ == "__main__":
    main()
