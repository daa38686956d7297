-- sqldetect: rule sqld-0028: Executable or Script Dropped in a Startup Folder
-- ATT&CK: T1547.001
WITH
-- EventCode=11 Channel="Microsoft-Windows-Sysmon/Operational" TargetFilename="*\\Start Menu\\Programs\\Startup\\*"
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 11
    AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    AND "TargetFilename" ILIKE '%\Start Menu\Programs\Startup\%'
),
-- eval file_name=mvindex(split(TargetFilename, "\\"), -1), extension=lower(mvindex(split(file_name, "."), -1))
"s2_eval" AS (
  SELECT
    *,
    LIST_EXTRACT(STRING_SPLIT("TargetFilename", '\'), -1) AS "file_name",
    LOWER(
      LIST_EXTRACT(STRING_SPLIT(LIST_EXTRACT(STRING_SPLIT("TargetFilename", '\'), -1), '.'), -1)
    ) AS "extension"
  FROM "s1_search"
),
-- search extension IN ("exe", "dll", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "ps1", "hta")
"s3_search" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      LOWER("extension") = 'exe'
      OR LOWER("extension") = 'dll'
      OR LOWER("extension") = 'scr'
      OR LOWER("extension") = 'com'
      OR LOWER("extension") = 'pif'
      OR LOWER("extension") = 'bat'
      OR LOWER("extension") = 'cmd'
      OR LOWER("extension") = 'vbs'
      OR LOWER("extension") = 'vbe'
      OR LOWER("extension") = 'js'
      OR LOWER("extension") = 'jse'
      OR LOWER("extension") = 'wsf'
      OR LOWER("extension") = 'wsh'
      OR LOWER("extension") = 'ps1'
      OR LOWER("extension") = 'hta'
    )
),
-- eval scope=if(match(TargetFilename, "(?i)^[a-z]:\\\\programdata\\\\"), "all users", "one user")
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("TargetFilename", '(?i)^[a-z]:\\programdata\\')
      THEN 'all users'
      ELSE 'one user'
    END AS "scope"
  FROM "s3_search"
),
-- table _time host User Image file_name extension scope TargetFilename
"s5_table" AS (
  SELECT
    "_time",
    "host",
    "User",
    "Image",
    "file_name",
    "extension",
    "scope",
    "TargetFilename",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s4_eval"
)
SELECT
  "_time",
  "host",
  "User",
  "Image",
  "file_name",
  "extension",
  "scope",
  "TargetFilename"
FROM "s5_table"
ORDER BY
  "_sqld_seq" ASC
