-- sqldetect: rule sqld-0005: Rundll32 Running Script Through a Protocol Handler
-- ATT&CK: T1218.011
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine IN ("*javascript:*", "*vbscript:*", "*RunHTMLApplication*")
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
    AND (
      "CommandLine" ILIKE '%javascript:%'
      OR "CommandLine" ILIKE '%vbscript:%'
      OR "CommandLine" ILIKE '%RunHTMLApplication%'
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
-- where process_name="rundll32.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'rundll32.exe'
),
-- rex field=CommandLine "(?i)(?<remote_url>(?:https?|ftp)://[^\s\"')]+)"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)(?P<remote_url>(?:https?|ftp)://[^\s"'')]+)', 1),
      ''
    ) AS "remote_url"
  FROM "s3_where"
),
-- eval parent_path=coalesce(ParentImage, ParentProcessName)
"s5_eval" AS (
  SELECT
    *,
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path"
  FROM "s4_rex"
),
-- table _time host EventCode parent_path process_path remote_url CommandLine
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "parent_path",
    "process_path",
    "remote_url",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "parent_path",
  "process_path",
  "remote_url",
  "CommandLine"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
