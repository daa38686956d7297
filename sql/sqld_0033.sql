-- sqldetect: rule sqld-0033: Schtasks Creating a Task That Runs a Shell or a Program From a Writable Path
-- ATT&CK: T1053.005
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine="*/create*"
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
    AND "CommandLine" ILIKE '%/create%'
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name="schtasks.exe"
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    "process_name" = 'schtasks.exe'
),
-- rex field=CommandLine "(?i)/tn\s+(?:\"(?<quoted_name>[^\"]+)\"|(?<bare_name>\S+))"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)/tn\s+(?:"(?P<quoted_name>[^"]+)"|(?P<bare_name>\S+))', 1),
      ''
    ) AS "quoted_name",
    NULLIF(
      REGEXP_EXTRACT("CommandLine", '(?i)/tn\s+(?:"(?P<quoted_name>[^"]+)"|(?P<bare_name>\S+))', 2),
      ''
    ) AS "bare_name"
  FROM "s3_where"
),
-- rex field=CommandLine "(?i)/tr\s+(?:\"(?<quoted_run>[^\"]+)\"|'(?<single_quoted_run>[^']+)'|(?<bare_run>\S+))"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)/tr\s+(?:"(?P<quoted_run>[^"]+)"|''(?P<single_quoted_run>[^'']+)''|(?P<bare_run>\S+))',
        1
      ),
      ''
    ) AS "quoted_run",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)/tr\s+(?:"(?P<quoted_run>[^"]+)"|''(?P<single_quoted_run>[^'']+)''|(?P<bare_run>\S+))',
        2
      ),
      ''
    ) AS "single_quoted_run",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)/tr\s+(?:"(?P<quoted_run>[^"]+)"|''(?P<single_quoted_run>[^'']+)''|(?P<bare_run>\S+))',
        3
      ),
      ''
    ) AS "bare_run"
  FROM "s4_rex"
),
-- eval task_name=coalesce(quoted_name, bare_name), task_run=coalesce(quoted_run, single_quoted_run, bare_run)
"s6_eval" AS (
  SELECT
    *,
    COALESCE("quoted_name", "bare_name") AS "task_name",
    COALESCE("quoted_run", "single_quoted_run", "bare_run") AS "task_run"
  FROM "s5_rex"
),
-- eval run=replace(lower(task_run), "\\\\", "/")
"s7_eval" AS (
  SELECT
    *,
    REGEXP_REPLACE(LOWER("task_run"), '\\', '/', 'g') AS "run"
  FROM "s6_eval"
),
-- eval lolbin=if(match(run, "(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)"), "shell or LOLBin", null())
"s8_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES(
        "run",
        '(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)'
      )
      THEN 'shell or LOLBin'
      ELSE CAST(NULL AS TEXT)
    END AS "lolbin"
  FROM "s7_eval"
),
-- eval writable=if(match(run, "/(users/public|windows/temp|programdata|perflogs|appdata)/"), "user-writable path", null())
"s9_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("run", '/(users/public|windows/temp|programdata|perflogs|appdata)/')
      THEN 'user-writable path'
      ELSE CAST(NULL AS TEXT)
    END AS "writable"
  FROM "s8_eval"
),
-- eval as_system=if(match(CommandLine, "(?i)/ru\s+\"?(nt authority\\\\)?system\b"), "runs as SYSTEM", null())
"s10_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES("CommandLine", '(?i)/ru\s+"?(nt authority\\)?system\b')
      THEN 'runs as SYSTEM'
      ELSE CAST(NULL AS TEXT)
    END AS "as_system"
  FROM "s9_eval"
),
-- where isnotnull(lolbin) OR isnotnull(writable)
"s11_where" AS (
  SELECT
    *
  FROM "s10_eval"
  WHERE
    (
      NOT "lolbin" IS NULL
    ) OR (
      NOT "writable" IS NULL
    )
),
-- eval reasons=mvappend(lolbin, writable, as_system), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s12_eval" AS (
  SELECT
    *,
    CASE
      WHEN LEN(
        LIST_CONCAT(
          LIST_CONCAT(
            CASE WHEN "lolbin" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["lolbin"] END,
            CASE WHEN "writable" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["writable"] END
          ),
          CASE WHEN "as_system" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["as_system"] END
        )
      ) = 0
      THEN CAST(NULL AS TEXT[])
      ELSE LIST_CONCAT(
        LIST_CONCAT(
          CASE WHEN "lolbin" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["lolbin"] END,
          CASE WHEN "writable" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["writable"] END
        ),
        CASE WHEN "as_system" IS NULL THEN CAST(NULL AS TEXT[]) ELSE ["as_system"] END
      )
    END AS "reasons",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s11_where"
),
-- table _time host EventCode user task_name task_run reasons
"s13_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "task_name",
    "task_run",
    "reasons",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s12_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "task_name",
  "task_run",
  "reasons"
FROM "s13_table"
ORDER BY
  "_sqld_seq" ASC
