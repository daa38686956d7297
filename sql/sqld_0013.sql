-- sqldetect: rule sqld-0013: LSASS Memory Read by an Unexpected Process
-- ATT&CK: T1003.001
WITH
-- EventCode=10 Channel="Microsoft-Windows-Sysmon/Operational" TargetImage="*\\lsass.exe" NOT SourceImage IN ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\*\\MsMpEng.exe", "C:\\Windows\\System32\\csrss.exe", "C:\\Windows\\System32\\wininit.exe")
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 10
    AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    AND "TargetImage" ILIKE '%\lsass.exe'
    AND NOT COALESCE(
      (
        "SourceImage" ILIKE 'C:\ProgramData\Microsoft\Windows Defender\Platform\%\MsMpEng.exe'
        OR LOWER("SourceImage") = 'c:\windows\system32\csrss.exe'
        OR LOWER("SourceImage") = 'c:\windows\system32\wininit.exe'
      ),
      FALSE
    )
),
-- eval access=tonumber(replace(GrantedAccess, "^0x", ""), 16)
"s2_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_FULL_MATCH(
        REGEXP_REPLACE(UPPER(TRIM(REGEXP_REPLACE("GrantedAccess", '^0x', '', 'g'))), '^[+-]?(0X)?', ''),
        '[0123456789ABCDEF]+'
      )
      THEN CAST(CASE
        WHEN STARTS_WITH(UPPER(TRIM(REGEXP_REPLACE("GrantedAccess", '^0x', '', 'g'))), '-')
        THEN -1
        ELSE 1
      END * LIST_REDUCE(
        LIST_TRANSFORM(
          STRING_SPLIT(
            REGEXP_REPLACE(UPPER(TRIM(REGEXP_REPLACE("GrantedAccess", '^0x', '', 'g'))), '^[+-]?(0X)?', ''),
            ''
          ),
          LAMBDA "_c" : INSTR('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', "_c") - 1
        ),
        LAMBDA "_n", "_d" : "_n" * 16 + "_d",
        0
      ) AS DOUBLE)
    END AS "access"
  FROM "s1_search"
),
-- where floor(access / 16) % 2 = 1
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    FLOOR("access" / NULLIF(16, 0)) % NULLIF(2, 0) = 1
),
-- table _time host SourceUser SourceImage SourceProcessId GrantedAccess CallTrace
"s4_table" AS (
  SELECT
    "_time",
    "host",
    "SourceUser",
    "SourceImage",
    "SourceProcessId",
    "GrantedAccess",
    "CallTrace",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s3_where"
)
SELECT
  "_time",
  "host",
  "SourceUser",
  "SourceImage",
  "SourceProcessId",
  "GrantedAccess",
  "CallTrace"
FROM "s4_table"
ORDER BY
  "_sqld_seq" ASC
