-- sqldetect: rule sqld-0035: PowerShell Download Cradle on the Command Line
-- ATT&CK: T1059.001, T1105
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine IN ("*DownloadString*", "*DownloadData*", "*DownloadFile*", "*Invoke-WebRequest*", "*iwr *", "*Invoke-RestMethod*", "*irm *", "*Start-BitsTransfer*", "*wget *", "*curl *")
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
      "CommandLine" ILIKE '%DownloadString%'
      OR "CommandLine" ILIKE '%DownloadData%'
      OR "CommandLine" ILIKE '%DownloadFile%'
      OR "CommandLine" ILIKE '%Invoke-WebRequest%'
      OR "CommandLine" ILIKE '%iwr %'
      OR "CommandLine" ILIKE '%Invoke-RestMethod%'
      OR "CommandLine" ILIKE '%irm %'
      OR "CommandLine" ILIKE '%Start-BitsTransfer%'
      OR "CommandLine" ILIKE '%wget %'
      OR "CommandLine" ILIKE '%curl %'
    )
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name IN ("powershell.exe", "pwsh.exe")
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      "process_name" = 'powershell.exe' OR "process_name" = 'pwsh.exe'
    )
),
-- where match(CommandLine, "(?i)\b(iex|invoke-expression)\b|scriptblock\]::create|\.invoke\(")
"s4_where" AS (
  SELECT
    *
  FROM "s3_where"
  WHERE
    REGEXP_MATCHES("CommandLine", '(?i)\b(iex|invoke-expression)\b|scriptblock\]::create|\.invoke\(')
),
-- rex field=CommandLine "(?i)(?<url>https?://[^\s'\")]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("CommandLine", '(?i)(?P<url>https?://[^\s''")]+)', 1), '') AS "url"
  FROM "s4_where"
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s6_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s5_rex"
),
-- table _time host EventCode user url CommandLine
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
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
  "url",
  "CommandLine"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
