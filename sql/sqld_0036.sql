-- sqldetect: rule sqld-0036: Defender Protection Disabled or Exclusion Added With PowerShell
-- ATT&CK: T1562.001
WITH
-- (EventCode=4104 Channel="Microsoft-Windows-PowerShell/Operational") OR (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") ScriptBlockText IN ("*Set-MpPreference*", "*Add-MpPreference*") OR CommandLine IN ("*Set-MpPreference*", "*Add-MpPreference*")
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    (
      "EventCode" = 4104
      AND LOWER("Channel") = 'microsoft-windows-powershell/operational'
      OR "EventCode" = 4688
      AND LOWER("Channel") = 'security'
      OR "EventCode" = 1
      AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    )
    AND (
      (
        "ScriptBlockText" ILIKE '%Set-MpPreference%'
        OR "ScriptBlockText" ILIKE '%Add-MpPreference%'
      )
      OR (
        "CommandLine" ILIKE '%Set-MpPreference%'
        OR "CommandLine" ILIKE '%Add-MpPreference%'
      )
    )
),
-- eval text=coalesce(ScriptBlockText, CommandLine)
"s2_eval" AS (
  SELECT
    *,
    COALESCE("ScriptBlockText", "CommandLine") AS "text"
  FROM "s1_search"
),
-- eval change=mvappend( if(match(text, "(?i)-Disable(RealtimeMonitoring|BehaviorMonitoring|IOAVProtection|ScriptScanning|IntrusionPreventionSystem|BlockAtFirstSeen|ArchiveScanning)\s+(\$true|1)\b"), "protection disabled", null()), if(match(text, "(?i)Add-MpPreference\s.*-Exclusion(Path|Process|Extension)\s"), "exclusion added", null()))
"s3_eval" AS (
  SELECT
    *,
    CASE
      WHEN LEN(
        LIST_CONCAT(
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES(
                "text",
                '(?i)-Disable(RealtimeMonitoring|BehaviorMonitoring|IOAVProtection|ScriptScanning|IntrusionPreventionSystem|BlockAtFirstSeen|ArchiveScanning)\s+(\$true|1)\b'
              )
              THEN 'protection disabled'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES(
                  "text",
                  '(?i)-Disable(RealtimeMonitoring|BehaviorMonitoring|IOAVProtection|ScriptScanning|IntrusionPreventionSystem|BlockAtFirstSeen|ArchiveScanning)\s+(\$true|1)\b'
                )
                THEN 'protection disabled'
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END,
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES("text", '(?i)Add-MpPreference\s.*-Exclusion(Path|Process|Extension)\s')
              THEN 'exclusion added'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES("text", '(?i)Add-MpPreference\s.*-Exclusion(Path|Process|Extension)\s')
                THEN 'exclusion added'
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END
        )
      ) = 0
      THEN CAST(NULL AS TEXT[])
      ELSE LIST_CONCAT(
        CASE
          WHEN CASE
            WHEN REGEXP_MATCHES(
              "text",
              '(?i)-Disable(RealtimeMonitoring|BehaviorMonitoring|IOAVProtection|ScriptScanning|IntrusionPreventionSystem|BlockAtFirstSeen|ArchiveScanning)\s+(\$true|1)\b'
            )
            THEN 'protection disabled'
            ELSE CAST(NULL AS TEXT)
          END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE
              WHEN REGEXP_MATCHES(
                "text",
                '(?i)-Disable(RealtimeMonitoring|BehaviorMonitoring|IOAVProtection|ScriptScanning|IntrusionPreventionSystem|BlockAtFirstSeen|ArchiveScanning)\s+(\$true|1)\b'
              )
              THEN 'protection disabled'
              ELSE CAST(NULL AS TEXT)
            END
          ]
        END,
        CASE
          WHEN CASE
            WHEN REGEXP_MATCHES("text", '(?i)Add-MpPreference\s.*-Exclusion(Path|Process|Extension)\s')
            THEN 'exclusion added'
            ELSE CAST(NULL AS TEXT)
          END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE
              WHEN REGEXP_MATCHES("text", '(?i)Add-MpPreference\s.*-Exclusion(Path|Process|Extension)\s')
              THEN 'exclusion added'
              ELSE CAST(NULL AS TEXT)
            END
          ]
        END
      )
    END AS "change"
  FROM "s2_eval"
),
-- where mvcount(change) > 0
"s4_where" AS (
  SELECT
    *
  FROM "s3_eval"
  WHERE
    NULLIF(LEN("change"), 0) > 0
),
-- rex field=text "(?i)-Exclusion(?:Path|Process|Extension)\s+(?<exclusion>\"[^\"]*\"|'[^']*'|[^\s;]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "text",
        '(?i)-Exclusion(?:Path|Process|Extension)\s+(?P<exclusion>"[^"]*"|''[^'']*''|[^\s;]+)',
        1
      ),
      ''
    ) AS "exclusion"
  FROM "s4_where"
),
-- table _time host EventCode change exclusion text
"s6_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "change",
    "exclusion",
    "text",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s5_rex"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "change",
  "exclusion",
  "text"
FROM "s6_table"
ORDER BY
  "_sqld_seq" ASC
