-- sqldetect: rule sqld-0028: Executable or Script Dropped in a Startup Folder
-- ATT&CK: T1547.001
WITH
-- derived fields: user
"s0_source" AS (
  SELECT
    *,
    CASE
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      AND "EventCode" = 1
      THEN "User"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND "EventCode" = 4688
      THEN CASE
        WHEN (
          (
            NOT (
              NOT "SubjectDomainName" IS NULL
            )
          )
          OR (
            "SubjectDomainName" = ''
          )
        )
        OR (
          "SubjectDomainName" = '-'
        )
        THEN "SubjectUserName"
        ELSE "SubjectDomainName" || '\' || "SubjectUserName"
      END
      WHEN (
        LOWER("Channel") = 'system' OR "source" ILIKE '%WinEventLog:System'
      )
      AND "EventCode" = 7045
      THEN "AccountName"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND "EventCode" = 4697
      THEN "ServiceAccount"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND (
        "EventCode" = 4720
        OR "EventCode" = 4722
        OR "EventCode" = 4723
        OR "EventCode" = 4724
        OR "EventCode" = 4725
        OR "EventCode" = 4726
        OR "EventCode" = 4738
        OR "EventCode" = 4740
        OR "EventCode" = 4767
        OR "EventCode" = 4781
        OR "EventCode" = 4794
      )
      THEN "TargetUserName"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND (
        "EventCode" = 4728
        OR "EventCode" = 4729
        OR "EventCode" = 4732
        OR "EventCode" = 4733
        OR "EventCode" = 4756
        OR "EventCode" = 4757
      )
      THEN COALESCE(NULLIF(NULLIF("MemberName", '-'), ''), "MemberSid")
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      THEN "User"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      THEN CASE
        WHEN (
          (
            NOT (
              NOT "TargetUserName" IS NULL
            )
          ) OR (
            "TargetUserName" = '-'
          )
        )
        OR (
          "TargetUserName" = ''
        )
        THEN "SubjectUserName"
        ELSE "TargetUserName"
      END
      WHEN (
        LOWER("Channel") = 'system' OR "source" ILIKE '%WinEventLog:System'
      )
      THEN COALESCE("AccountName", "UserID")
    END AS "user__2"
  FROM "events"
),
-- EventCode=11 Channel="Microsoft-Windows-Sysmon/Operational" TargetFilename="*\\Start Menu\\Programs\\Startup\\*"
"s1_search" AS (
  SELECT
    *
  FROM "s0_source"
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
