-- sqldetect: rule sqld-0003: Certutil Download or Decode
-- ATT&CK: T1105, T1140
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine IN ("*urlcache*", "*verifyctl*", "*-decode*", "*/decode*")
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
      "CommandLine" ILIKE '%urlcache%'
      OR "CommandLine" ILIKE '%verifyctl%'
      OR "CommandLine" ILIKE '%-decode%'
      OR "CommandLine" ILIKE '%/decode%'
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
-- where process_name="certutil.exe" OR OriginalFileName="CertUtil.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      "process_name" = 'certutil.exe'
    )
    OR (
      "OriginalFileName" = 'CertUtil.exe'
    )
),
-- eval action=case(match(CommandLine, "(?i)[-/](urlcache|verifyctl)"), "download", match(CommandLine, "(?i)[-/]decode"), "decode")
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("CommandLine", '(?i)[-/](urlcache|verifyctl)')
      THEN 'download'
      WHEN REGEXP_MATCHES("CommandLine", '(?i)[-/]decode')
      THEN 'decode'
    END AS "action"
  FROM "s3_where"
),
-- rex field=CommandLine "(?i)(?<url>(?:https?|ftp)://[^\s\"]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("CommandLine", '(?i)(?P<url>(?:https?|ftp)://[^\s"]+)', 1), '') AS "url"
  FROM "s4_eval"
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s6_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s5_rex"
),
-- table _time host EventCode user process_path action url CommandLine
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "process_path",
    "action",
    "url",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s6_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "process_path",
  "action",
  "url",
  "CommandLine"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
