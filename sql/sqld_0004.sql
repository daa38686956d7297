-- sqldetect: rule sqld-0004: Regsvr32 Remote Scriptlet Execution
-- ATT&CK: T1218.010
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") TERM(scrobj.dll) OR CommandLine="*/i:http*" OR CommandLine="*-i:http*"
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
      REGEXP_MATCHES(
        "_raw",
        '(?i)(?:^|[\[\]<>(){}|!;,''"*\n\r \t&?+])scrobj\.dll(?:$|[\[\]<>(){}|!;,''"*\n\r \t&?+/:=@.\-$#%\\_])'
      )
      OR "CommandLine" ILIKE '%/i:http%'
      OR "CommandLine" ILIKE '%-i:http%'
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
-- where process_name="regsvr32.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'regsvr32.exe'
),
-- regex CommandLine="(?i)[/-]i:\s*\"?(https?|ftp)://"
"s4_regex" AS (
  SELECT
    *
  FROM "s3_where"
  WHERE
    REGEXP_MATCHES("CommandLine", '(?i)[/-]i:\s*"?(https?|ftp)://')
),
-- rex field=CommandLine "(?i)[/-]i:\s*\"?(?<scriptlet_url>(?:https?|ftp)://[^\s\"]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)[/-]i:\s*"?(?P<scriptlet_url>(?:https?|ftp)://[^\s"]+)', 1),
      ''
    ) AS "scriptlet_url"
  FROM "s4_regex"
),
-- table _time host EventCode process_path scriptlet_url CommandLine
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "process_path",
    "scriptlet_url",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_rex"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "process_path",
  "scriptlet_url",
  "CommandLine"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
