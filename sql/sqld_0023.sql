-- sqldetect: rule sqld-0023: Windows Event Log Cleared
-- ATT&CK: T1070.001
WITH
-- Provider="Microsoft-Windows-Eventlog" ((EventCode=1102 Channel=Security) OR (EventCode=104 Channel=System))
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    LOWER("Provider") = 'microsoft-windows-eventlog'
    AND (
      "EventCode" = 1102
      AND LOWER("Channel") = 'security'
      OR "EventCode" = 104
      AND LOWER("Channel") = 'system'
    )
),
-- eval cleared_log=if(EventCode=1102, "Security", UserData_Channel), actor=SubjectDomainName . "\\" . SubjectUserName
"s2_eval" AS (
  SELECT
    *,
    CASE WHEN "EventCode" = 1102 THEN 'Security' ELSE CAST(NULL AS TEXT) END AS "cleared_log",
    "SubjectDomainName" || '\' || "SubjectUserName" AS "actor"
  FROM "s1_search"
),
-- table _time host EventCode cleared_log actor
"s3_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "cleared_log",
    "actor",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s2_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "cleared_log",
  "actor"
FROM "s3_table"
ORDER BY
  "_sqld_seq" ASC
