-- sqldetect: rule sqld-0008: BITSAdmin File Transfer
-- ATT&CK: T1105, T1197
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine IN ("*/transfer*", "*/addfile*", "*/download*", "*/SetNotifyCmdLine*")
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
      "CommandLine" ILIKE '%/transfer%'
      OR "CommandLine" ILIKE '%/addfile%'
      OR "CommandLine" ILIKE '%/download%'
      OR "CommandLine" ILIKE '%/SetNotifyCmdLine%'
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
-- where process_name="bitsadmin.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'bitsadmin.exe'
),
-- rex field=CommandLine "(?i)(?<remote_url>(?:https?|ftp)://\S+)\s+\"?(?<local_path>[A-Za-z]:\\\\[^\"]+?)\"?\s*$"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)(?P<remote_url>(?:https?|ftp)://\S+)\s+"?(?P<local_path>[A-Za-z]:\\[^"]+?)"?\s*$',
        1
      ),
      ''
    ) AS "remote_url",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)(?P<remote_url>(?:https?|ftp)://\S+)\s+"?(?P<local_path>[A-Za-z]:\\[^"]+?)"?\s*$',
        2
      ),
      ''
    ) AS "local_path"
  FROM "s3_where"
),
-- eval job_type=if(match(CommandLine, "(?i)/SetNotifyCmdLine"), "notify command", "download"), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s5_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("CommandLine", '(?i)/SetNotifyCmdLine')
      THEN 'notify command'
      ELSE 'download'
    END AS "job_type",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s4_rex"
),
-- table _time host EventCode user job_type remote_url local_path CommandLine
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "job_type",
    "remote_url",
    "local_path",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "job_type",
  "remote_url",
  "local_path",
  "CommandLine"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
