-- sqldetect: rule sqld-0010: Shadow Copy Deletion or Recovery Disabled
-- ATT&CK: T1490
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine IN ("*shadow*", "*catalog*", "*recoveryenabled*")
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
    AND (
      "CommandLine" ILIKE '%shadow%'
      OR "CommandLine" ILIKE '%catalog%'
      OR "CommandLine" ILIKE '%recoveryenabled%'
    )
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1)), cmd=lower(CommandLine)
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name",
    LOWER("CommandLine") AS "cmd"
  FROM "s1_search"
),
-- eval action=case( process_name="vssadmin.exe" AND match(cmd, "delete\s+shadows"), "vssadmin delete shadows", process_name="vssadmin.exe" AND match(cmd, "resize\s+shadowstorage"), "vssadmin resize shadowstorage", process_name="wmic.exe" AND match(cmd, "shadowcopy\s+delete"), "wmic shadowcopy delete", match(cmd, "win32_shadowcopy") AND match(cmd, "delete|remove-(cim|wmi)instance"), "powershell shadow copy delete", process_name="wbadmin.exe" AND match(cmd, "delete\s+catalog"), "wbadmin delete catalog", process_name="bcdedit.exe" AND match(cmd, "recoveryenabled\s+(no|off|0)"), "bcdedit recovery disabled")
"s3_eval" AS (
  SELECT
    *,
    CASE
      WHEN (
        "process_name" = 'vssadmin.exe'
      )
      AND REGEXP_MATCHES("cmd", 'delete\s+shadows')
      THEN 'vssadmin delete shadows'
      WHEN (
        "process_name" = 'vssadmin.exe'
      )
      AND REGEXP_MATCHES("cmd", 'resize\s+shadowstorage')
      THEN 'vssadmin resize shadowstorage'
      WHEN (
        "process_name" = 'wmic.exe'
      )
      AND REGEXP_MATCHES("cmd", 'shadowcopy\s+delete')
      THEN 'wmic shadowcopy delete'
      WHEN REGEXP_MATCHES("cmd", 'win32_shadowcopy')
      AND REGEXP_MATCHES("cmd", 'delete|remove-(cim|wmi)instance')
      THEN 'powershell shadow copy delete'
      WHEN (
        "process_name" = 'wbadmin.exe'
      )
      AND REGEXP_MATCHES("cmd", 'delete\s+catalog')
      THEN 'wbadmin delete catalog'
      WHEN (
        "process_name" = 'bcdedit.exe'
      )
      AND REGEXP_MATCHES("cmd", 'recoveryenabled\s+(no|off|0)')
      THEN 'bcdedit recovery disabled'
    END AS "action"
  FROM "s2_eval"
),
-- where isnotnull(action)
"s4_where" AS (
  SELECT
    *
  FROM "s3_eval"
  WHERE
    NOT "action" IS NULL
),
-- stats min(_time) as firstTime max(_time) as lastTime values(action) as actions values(process_name) as processes count by host
"s5_stats" AS (
  SELECT
    "host",
    EPOCH(MIN("_time")) AS "firstTime",
    EPOCH(MAX("_time")) AS "lastTime",
    LIST_SORT(ARRAY_AGG(DISTINCT "action") FILTER(WHERE
      NOT "action" IS NULL)) AS "actions",
    LIST_SORT(ARRAY_AGG(DISTINCT "process_name") FILTER(WHERE
      NOT "process_name" IS NULL)) AS "processes",
    COUNT(*) AS "count"
  FROM "s4_where"
  WHERE
    NOT "host" IS NULL
  GROUP BY
    "host"
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(firstTime) ctime(lastTime)
"s6_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("firstTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "firstTime", STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("lastTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "lastTime")
  FROM "s5_stats"
)
SELECT
  "host",
  "firstTime",
  "lastTime",
  "actions",
  "processes",
  "count"
FROM "s6_convert"
ORDER BY
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC
