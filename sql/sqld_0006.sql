-- sqldetect: rule sqld-0006: Mshta Running a Remote or Inline Script
-- ATT&CK: T1218.005
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational")
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
),
-- eval process_path=coalesce(Image, NewProcessName), process_name=lower(mvindex(split(process_path, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    COALESCE("Image", "NewProcessName") AS "process_path",
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name="mshta.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'mshta.exe'
),
-- eval technique=case(match(CommandLine, "(?i)(https?|ftp)://"), "remote HTA", match(CommandLine, "(?i)(javascript|vbscript):"), "inline script")
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("CommandLine", '(?i)(https?|ftp)://')
      THEN 'remote HTA'
      WHEN REGEXP_MATCHES("CommandLine", '(?i)(javascript|vbscript):')
      THEN 'inline script'
    END AS "technique"
  FROM "s3_where"
),
-- where isnotnull(technique)
"s5_where" AS (
  SELECT
    *
  FROM "s4_eval"
  WHERE
    NOT "technique" IS NULL
),
-- rex field=CommandLine "(?i)(?<hta_url>(?:https?|ftp)://[^\s\"]+)"
"s6_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("CommandLine", '(?i)(?P<hta_url>(?:https?|ftp)://[^\s"]+)', 1), '') AS "hta_url"
  FROM "s5_where"
),
-- eval parent_path=coalesce(ParentImage, ParentProcessName)
"s7_eval" AS (
  SELECT
    *,
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path"
  FROM "s6_rex"
),
-- table _time host EventCode parent_path technique hta_url CommandLine
"s8_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "parent_path",
    "technique",
    "hta_url",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s7_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "parent_path",
  "technique",
  "hta_url",
  "CommandLine"
FROM "s8_table"
ORDER BY
  "_sqld_seq" ASC
