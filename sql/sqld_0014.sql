-- sqldetect: rule sqld-0014: Process Memory Dump Through comsvcs.dll
-- ATT&CK: T1003.001, T1218.011
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine="*comsvcs*" (CommandLine="*minidump*" OR CommandLine="*#24*")
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    (
      "EventCode" = 4688
      AND LOWER("Channel") = 'security'
      OR "EventCode" = 1
      AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    )
    AND "CommandLine" ILIKE '%comsvcs%'
    AND (
      "CommandLine" ILIKE '%minidump%' OR "CommandLine" ILIKE '%#24%'
    )
),
-- rex field=CommandLine "(?i)(?:minidump|#24)\W+(?<target_pid>\d+)\s+(?<dump_file>.+?)\s+full"
"s2_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)(?:minidump|#24)\W+(?P<target_pid>\d+)\s+(?P<dump_file>.+?)\s+full',
        1
      ),
      ''
    ) AS "target_pid",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)(?:minidump|#24)\W+(?P<target_pid>\d+)\s+(?P<dump_file>.+?)\s+full',
        2
      ),
      ''
    ) AS "dump_file"
  FROM "s1_search"
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName), process_path=coalesce(Image, NewProcessName)
"s3_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2",
    COALESCE("Image", "NewProcessName") AS "process_path"
  FROM "s2_rex"
),
-- table _time host EventCode user process_path target_pid dump_file CommandLine
"s4_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "process_path",
    "target_pid",
    "dump_file",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s3_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "process_path",
  "target_pid",
  "dump_file",
  "CommandLine"
FROM "s4_table"
ORDER BY
  "_sqld_seq" ASC
