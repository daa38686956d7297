-- sqldetect: rule sqld-0018: Remote Execution Tool Service Installed
-- ATT&CK: T1569.002, T1021.002
WITH
-- derived fields: service_name
"s0_source" AS (
  SELECT
    *,
    CASE
      WHEN (
        LOWER("Channel") = 'system' OR "source" ILIKE '%WinEventLog:System'
      )
      AND "EventCode" = 7045
      THEN "ServiceName"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND "EventCode" = 4697
      THEN "ServiceName"
    END AS "service_name"
  FROM "events"
),
-- (EventCode=7045 Channel=System) OR (EventCode=4697 Channel=Security)
"s1_search" AS (
  SELECT
    *
  FROM "s0_source"
  WHERE
    (
      "EventCode" = 7045
      AND LOWER("Channel") = 'system'
      OR "EventCode" = 4697
      AND LOWER("Channel") = 'security'
    )
),
-- eval service_path=coalesce(ImagePath, ServiceFileName)
"s2_eval" AS (
  SELECT
    *,
    COALESCE("ImagePath", "ServiceFileName") AS "service_path"
  FROM "s1_search"
),
-- search ServiceName IN ("PSEXESVC", "PAExec*", "RemComSvc", "csexecsvc", "winexesvc") OR service_path IN ("*\\PSEXESVC.exe", "*\\PAExec*.exe", "*\\RemComSvc.exe", "*\\csexecsvc.exe", "*\\winexesvc.exe")
"s3_search" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      (
        LOWER("ServiceName") = 'psexesvc'
        OR "ServiceName" ILIKE 'PAExec%'
        OR LOWER("ServiceName") = 'remcomsvc'
        OR LOWER("ServiceName") = 'csexecsvc'
        OR LOWER("ServiceName") = 'winexesvc'
      )
      OR (
        "service_path" ILIKE '%\PSEXESVC.exe'
        OR "service_path" ILIKE '%\PAExec%.exe'
        OR "service_path" ILIKE '%\RemComSvc.exe'
        OR "service_path" ILIKE '%\csexecsvc.exe'
        OR "service_path" ILIKE '%\winexesvc.exe'
      )
    )
),
-- eval tool=case(match(service_path, "(?i)psexesvc"), "PsExec", match(service_path, "(?i)paexec"), "PAExec", match(service_path, "(?i)remcom"), "RemCom", match(service_path, "(?i)csexec"), "CSExec", match(service_path, "(?i)winexe"), "winexe", true(), ServiceName)
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("service_path", '(?i)psexesvc')
      THEN 'PsExec'
      WHEN REGEXP_MATCHES("service_path", '(?i)paexec')
      THEN 'PAExec'
      WHEN REGEXP_MATCHES("service_path", '(?i)remcom')
      THEN 'RemCom'
      WHEN REGEXP_MATCHES("service_path", '(?i)csexec')
      THEN 'CSExec'
      WHEN REGEXP_MATCHES("service_path", '(?i)winexe')
      THEN 'winexe'
      WHEN TRUE
      THEN "ServiceName"
    END AS "tool"
  FROM "s3_search"
),
-- rename ServiceName as service_name
"s5_rename" AS (
  SELECT
    *
    EXCLUDE ("service_name")
    RENAME ("ServiceName" AS "service_name")
  FROM "s4_eval"
),
-- table _time host EventCode tool service_name service_path
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "tool",
    "service_name",
    "service_path",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_rename"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "tool",
  "service_name",
  "service_path"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
