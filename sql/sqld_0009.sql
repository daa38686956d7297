-- sqldetect: rule sqld-0009: WMIC Process Call Create
-- ATT&CK: T1047
WITH
-- derived fields: process
"s0_source" AS (
  SELECT
    *,
    CASE
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      AND "EventCode" = 1
      THEN "CommandLine"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND "EventCode" = 4688
      THEN "CommandLine"
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      THEN COALESCE("CommandLine", "Image")
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      THEN NULLIF("ProcessName", '-')
    END AS "process"
  FROM "events"
),
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine="*process*" CommandLine="*create*"
"s1_search" AS (
  SELECT
    *
  FROM "s0_source"
  WHERE
    (
      "EventCode" = 4688
      AND LOWER("Channel") = 'security'
      OR "EventCode" = 1
      AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    )
    AND "CommandLine" ILIKE '%process%'
    AND "CommandLine" ILIKE '%create%'
),
-- eval process_path=coalesce(Image, NewProcessName), process_name=lower(mvindex(split(process_path, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    COALESCE("Image", "NewProcessName") AS "process_path",
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name="wmic.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'wmic.exe'
),
-- regex CommandLine="(?i)process\s+call\s+create"
"s4_regex" AS (
  SELECT
    *
  FROM "s3_where"
  WHERE
    REGEXP_MATCHES("CommandLine", '(?i)process\s+call\s+create')
),
-- rex field=CommandLine "(?i)/node:\s*\"?(?<remote_node>[^\s\"]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("CommandLine", '(?i)/node:\s*"?(?P<remote_node>[^\s"]+)', 1), '') AS "remote_node"
  FROM "s4_regex"
),
-- rex field=CommandLine "(?i)call\s+create\s+(?<spawned_command>.+)$"
"s6_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)call\s+create\s+(?P<spawned_command>.+)$', 1),
      ''
    ) AS "spawned_command"
  FROM "s5_rex"
),
-- fillnull value="localhost" remote_node
"s7_fillnull" AS (
  SELECT
    *
    REPLACE (COALESCE("remote_node", 'localhost') AS "remote_node")
  FROM "s6_rex"
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s8_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s7_fillnull"
),
-- table _time host EventCode user remote_node spawned_command
"s9_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "remote_node",
    "spawned_command",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s8_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "remote_node",
  "spawned_command"
FROM "s9_table"
ORDER BY
  "_sqld_seq" ASC
