-- sqldetect: rule sqld-0020: Scheduled Task Created With a Suspicious Action
-- ATT&CK: T1053.005
WITH
-- EventCode=4698 Channel=Security
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4698 AND LOWER("Channel") = 'security'
),
-- eval TaskContent=replace(replace(replace(TaskContent, "&lt;", "<"), "&gt;", ">"), "&amp;", "&")
"s2_eval" AS (
  SELECT
    *
    REPLACE (REGEXP_REPLACE(
      REGEXP_REPLACE(REGEXP_REPLACE("TaskContent", '&lt;', '<', 'g'), '&gt;', '>', 'g'),
      '&amp;',
      '&',
      'g'
    ) AS "TaskContent")
  FROM "s1_search"
),
-- rex field=TaskContent "<Command>(?<task_command>[^<]+)</Command>"
"s3_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("TaskContent", '<Command>(?P<task_command>[^<]+)</Command>', 1), '') AS "task_command"
  FROM "s2_eval"
),
-- rex field=TaskContent "<Arguments>(?<task_arguments>[^<]*)</Arguments>"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT("TaskContent", '<Arguments>(?P<task_arguments>[^<]*)</Arguments>', 1),
      ''
    ) AS "task_arguments"
  FROM "s3_rex"
),
-- rex field=TaskContent "<Hidden>(?<hidden>[^<]+)</Hidden>"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("TaskContent", '<Hidden>(?P<hidden>[^<]+)</Hidden>', 1), '') AS "hidden"
  FROM "s4_rex"
),
-- rex field=TaskContent "<UserId>(?<run_as>[^<]+)</UserId>"
"s6_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("TaskContent", '<UserId>(?P<run_as>[^<]+)</UserId>', 1), '') AS "run_as"
  FROM "s5_rex"
),
-- eval action=replace(lower(task_command . " " . coalesce(task_arguments, "")), "\\\\", "/")
"s7_eval" AS (
  SELECT
    *,
    REGEXP_REPLACE(LOWER("task_command" || ' ' || COALESCE("task_arguments", '')), '\\', '/', 'g') AS "action"
  FROM "s6_rex"
),
-- eval reasons=mvappend( if(match(action, "(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)"), "shell or LOLBin", null()), if(match(action, "\s[-/]e(c|n|nc|ncodedcommand)?\s+[a-z0-9+/=]{16,}"), "encoded command", null()), if(match(action, "/(users/public|windows/temp|programdata|perflogs|appdata)/"), "user-writable path", null()), if(lower(hidden)="true", "hidden task", null()))
"s8_eval" AS (
  SELECT
    *,
    CASE
      WHEN LEN(
        LIST_CONCAT(
          LIST_CONCAT(
            LIST_CONCAT(
              CASE
                WHEN CASE
                  WHEN REGEXP_MATCHES(
                    "action",
                    '(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)'
                  )
                  THEN 'shell or LOLBin'
                  ELSE CAST(NULL AS TEXT)
                END IS NULL
                THEN CAST(NULL AS TEXT[])
                ELSE [
                  CASE
                    WHEN REGEXP_MATCHES(
                      "action",
                      '(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)'
                    )
                    THEN 'shell or LOLBin'
                    ELSE CAST(NULL AS TEXT)
                  END
                ]
              END,
              CASE
                WHEN CASE
                  WHEN REGEXP_MATCHES("action", '\s[-/]e(c|n|nc|ncodedcommand)?\s+[a-z0-9+/=]{16,}')
                  THEN 'encoded command'
                  ELSE CAST(NULL AS TEXT)
                END IS NULL
                THEN CAST(NULL AS TEXT[])
                ELSE [
                  CASE
                    WHEN REGEXP_MATCHES("action", '\s[-/]e(c|n|nc|ncodedcommand)?\s+[a-z0-9+/=]{16,}')
                    THEN 'encoded command'
                    ELSE CAST(NULL AS TEXT)
                  END
                ]
              END
            ),
            CASE
              WHEN CASE
                WHEN REGEXP_MATCHES("action", '/(users/public|windows/temp|programdata|perflogs|appdata)/')
                THEN 'user-writable path'
                ELSE CAST(NULL AS TEXT)
              END IS NULL
              THEN CAST(NULL AS TEXT[])
              ELSE [
                CASE
                  WHEN REGEXP_MATCHES("action", '/(users/public|windows/temp|programdata|perflogs|appdata)/')
                  THEN 'user-writable path'
                  ELSE CAST(NULL AS TEXT)
                END
              ]
            END
          ),
          CASE
            WHEN CASE WHEN LOWER("hidden") = 'true' THEN 'hidden task' ELSE CAST(NULL AS TEXT) END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE WHEN LOWER("hidden") = 'true' THEN 'hidden task' ELSE CAST(NULL AS TEXT) END
            ]
          END
        )
      ) = 0
      THEN CAST(NULL AS TEXT[])
      ELSE LIST_CONCAT(
        LIST_CONCAT(
          LIST_CONCAT(
            CASE
              WHEN CASE
                WHEN REGEXP_MATCHES(
                  "action",
                  '(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)'
                )
                THEN 'shell or LOLBin'
                ELSE CAST(NULL AS TEXT)
              END IS NULL
              THEN CAST(NULL AS TEXT[])
              ELSE [
                CASE
                  WHEN REGEXP_MATCHES(
                    "action",
                    '(^|/)(powershell|pwsh|cmd|mshta|rundll32|regsvr32|wscript|cscript|certutil|bitsadmin)(\.exe)?(\s|$)'
                  )
                  THEN 'shell or LOLBin'
                  ELSE CAST(NULL AS TEXT)
                END
              ]
            END,
            CASE
              WHEN CASE
                WHEN REGEXP_MATCHES("action", '\s[-/]e(c|n|nc|ncodedcommand)?\s+[a-z0-9+/=]{16,}')
                THEN 'encoded command'
                ELSE CAST(NULL AS TEXT)
              END IS NULL
              THEN CAST(NULL AS TEXT[])
              ELSE [
                CASE
                  WHEN REGEXP_MATCHES("action", '\s[-/]e(c|n|nc|ncodedcommand)?\s+[a-z0-9+/=]{16,}')
                  THEN 'encoded command'
                  ELSE CAST(NULL AS TEXT)
                END
              ]
            END
          ),
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES("action", '/(users/public|windows/temp|programdata|perflogs|appdata)/')
              THEN 'user-writable path'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES("action", '/(users/public|windows/temp|programdata|perflogs|appdata)/')
                THEN 'user-writable path'
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END
        ),
        CASE
          WHEN CASE WHEN LOWER("hidden") = 'true' THEN 'hidden task' ELSE CAST(NULL AS TEXT) END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE WHEN LOWER("hidden") = 'true' THEN 'hidden task' ELSE CAST(NULL AS TEXT) END
          ]
        END
      )
    END AS "reasons"
  FROM "s7_eval"
),
-- where mvcount(reasons) > 0
"s9_where" AS (
  SELECT
    *
  FROM "s8_eval"
  WHERE
    NULLIF(LEN("reasons"), 0) > 0
),
-- eval created_by=SubjectDomainName . "\\" . SubjectUserName
"s10_eval" AS (
  SELECT
    *,
    "SubjectDomainName" || '\' || "SubjectUserName" AS "created_by"
  FROM "s9_where"
),
-- table _time host created_by TaskName task_command task_arguments run_as reasons
"s11_table" AS (
  SELECT
    "_time",
    "host",
    "created_by",
    "TaskName",
    "task_command",
    "task_arguments",
    "run_as",
    "reasons",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s10_eval"
)
SELECT
  "_time",
  "host",
  "created_by",
  "TaskName",
  "task_command",
  "task_arguments",
  "run_as",
  "reasons"
FROM "s11_table"
ORDER BY
  "_sqld_seq" ASC
