-- sqldetect: rule sqld-0017: New Service With a Suspicious Image Path
-- ATT&CK: T1543.003
WITH
-- EventCode=7045 Channel=System
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 7045 AND LOWER("Channel") = 'system'
),
-- eval path=replace(lower(ImagePath), "\\\\", "/")
"s2_eval" AS (
  SELECT
    *,
    REGEXP_REPLACE(LOWER("ImagePath"), '\\', '/', 'g') AS "path__2"
  FROM "s1_search"
),
-- eval reason=case( match(path, "//\./pipe/"), "named pipe", match(path, "(^|[\s\"/])(cmd|powershell|pwsh|mshta|rundll32|regsvr32|wscript|cscript)(\.exe)?([\s\"]|$)|%comspec%"), "shell or script host", match(path, "/(windows/temp|users/public|programdata|perflogs)/|/appdata/") AND NOT match(path, "^\"?[a-z]:/programdata/microsoft/windows defender/platform/"), "user-writable directory")
"s3_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("path__2", '//\./pipe/')
      THEN 'named pipe'
      WHEN REGEXP_MATCHES(
        "path__2",
        '(^|[\s"/])(cmd|powershell|pwsh|mshta|rundll32|regsvr32|wscript|cscript)(\.exe)?([\s"]|$)|%comspec%'
      )
      THEN 'shell or script host'
      WHEN REGEXP_MATCHES("path__2", '/(windows/temp|users/public|programdata|perflogs)/|/appdata/')
      AND (
        NOT REGEXP_MATCHES("path__2", '^"?[a-z]:/programdata/microsoft/windows defender/platform/')
      )
      THEN 'user-writable directory'
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
-- table _time host ServiceName ImagePath StartType AccountName UserID reason
"s5_table" AS (
  SELECT
    "_time",
    "host",
    "ServiceName",
    "ImagePath",
    "StartType",
    "AccountName",
    "UserID",
    "reason",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s4_where"
)
SELECT
  "_time",
  "host",
  "ServiceName",
  "ImagePath",
  "StartType",
  "AccountName",
  "UserID",
  "reason"
FROM "s5_table"
ORDER BY
  "_sqld_seq" ASC
