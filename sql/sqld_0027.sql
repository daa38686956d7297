-- sqldetect: rule sqld-0027: Registry Run Key Pointing to a Suspicious Program
-- ATT&CK: T1547.001
WITH
-- EventCode=13 Channel="Microsoft-Windows-Sysmon/Operational" EventType=SetValue TargetObject IN ("*\\CurrentVersion\\Run\\*", "*\\CurrentVersion\\RunOnce\\*", "*\\CurrentVersion\\RunServices\\*", "*\\Policies\\Explorer\\Run\\*", "*\\Winlogon\\Userinit", "*\\Winlogon\\Shell")
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 13
    AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    AND LOWER("EventType") = 'setvalue'
    AND (
      "TargetObject" ILIKE '%\CurrentVersion\Run\%'
      OR "TargetObject" ILIKE '%\CurrentVersion\RunOnce\%'
      OR "TargetObject" ILIKE '%\CurrentVersion\RunServices\%'
      OR "TargetObject" ILIKE '%\Policies\Explorer\Run\%'
      OR "TargetObject" ILIKE '%\Winlogon\Userinit'
      OR "TargetObject" ILIKE '%\Winlogon\Shell'
    )
),
-- eval value_data=replace(lower(Details), "\\\\", "/")
"s2_eval" AS (
  SELECT
    *,
    REGEXP_REPLACE(LOWER("Details"), '\\', '/', 'g') AS "value_data"
  FROM "s1_search"
),
-- eval reason=case( match(value_data, "/(users/public|windows/temp|programdata|perflogs|appdata/local/temp)/"), "user-writable path", match(value_data, "(^|[/\s\"])(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript)(\.exe)?([\s\",]|$)"), "shell or script host", match(value_data, "(https?|ftp)://"), "URL in value")
"s3_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES(
        "value_data",
        '/(users/public|windows/temp|programdata|perflogs|appdata/local/temp)/'
      )
      THEN 'user-writable path'
      WHEN REGEXP_MATCHES(
        "value_data",
        '(^|[/\s"])(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript)(\.exe)?([\s",]|$)'
      )
      THEN 'shell or script host'
      WHEN REGEXP_MATCHES("value_data", '(https?|ftp)://')
      THEN 'URL in value'
    END AS "reason"
  FROM "s2_eval"
),
-- where isnotnull(reason)
"s4_where" AS (
  SELECT
    *
  FROM "s3_eval"
  WHERE
    NOT "reason" IS NULL
),
-- eval value_name=mvindex(split(TargetObject, "\\"), -1)
"s5_eval" AS (
  SELECT
    *,
    LIST_EXTRACT(STRING_SPLIT("TargetObject", '\'), -1) AS "value_name"
  FROM "s4_where"
),
-- table _time host User Image value_name Details reason TargetObject
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "User",
    "Image",
    "value_name",
    "Details",
    "reason",
    "TargetObject",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_eval"
)
SELECT
  "_time",
  "host",
  "User",
  "Image",
  "value_name",
  "Details",
  "reason",
  "TargetObject"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
