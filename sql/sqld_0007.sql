-- sqldetect: rule sqld-0007: Msiexec Installing a Package From a URL
-- ATT&CK: T1218.007
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine="*://*"
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
    AND "CommandLine" ILIKE '%://%'
),
-- eval process_path=coalesce(Image, NewProcessName), process_name=lower(mvindex(split(process_path, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    COALESCE("Image", "NewProcessName") AS "process_path",
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name="msiexec.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'msiexec.exe'
),
-- regex CommandLine="(?i)\s[/-](i|package|jm|ju)\s*\"?(https?|ftp)://"
"s4_regex" AS (
  SELECT
    *
  FROM "s3_where"
  WHERE
    REGEXP_MATCHES("CommandLine", '(?i)\s[/-](i|package|jm|ju)\s*"?(https?|ftp)://')
),
-- eval quiet=if(match(CommandLine, "(?i)\s[/-]q[nbr]?[+-]?(\s|$)"), "yes", "no")
"s5_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("CommandLine", '(?i)\s[/-]q[nbr]?[+-]?(\s|$)')
      THEN 'yes'
      ELSE 'no'
    END AS "quiet"
  FROM "s4_regex"
),
-- rex field=CommandLine "(?i)(?<package_url>(?:https?|ftp)://[^\s\"]+)"
"s6_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)(?P<package_url>(?:https?|ftp)://[^\s"]+)', 1),
      ''
    ) AS "package_url"
  FROM "s5_eval"
),
-- table _time host EventCode quiet package_url CommandLine
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "quiet",
    "package_url",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s6_rex"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "quiet",
  "package_url",
  "CommandLine"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
