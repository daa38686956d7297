-- sqldetect: rule 1117.1196: MSIExec Install MSI File
-- ATT&CK: T1218.007
WITH
-- derived fields: user, process
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
    END AS "user__2",
    CASE
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      AND "EventCode" = 1
      THEN "CommandLine"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND "EventCode" = 4688
      THEN "CommandLine"
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      THEN COALESCE("CommandLine", "Image")
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      THEN NULLIF("ProcessName", '-')
    END AS "process"
  FROM "events"
),
-- * * (TERM(EventCode=1040) OR "<EventID>1040<") TERM(MsiInstaller) OR TERM(ingress.event.procstart)
"s1_search" AS (
  SELECT
    *
  FROM "s0_source"
  WHERE
    (
      REGEXP_MATCHES(
        "_raw",
        '(?i)(?:^|[\[\]<>(){}|!;,''"*\n\r \t&?+])EventCode=1040(?:$|[\[\]<>(){}|!;,''"*\n\r \t&?+/:=@.\-$#%\\_])'
      )
      OR REGEXP_MATCHES("_raw", '(?i)<EventID>1040<')
    )
    AND (
      REGEXP_MATCHES(
        "_raw",
        '(?i)(?:^|[\[\]<>(){}|!;,''"*\n\r \t&?+/:=@.\-$#%\\_])MsiInstaller(?:$|[\[\]<>(){}|!;,''"*\n\r \t&?+/:=@.\-$#%\\_])'
      )
      OR REGEXP_MATCHES(
        "_raw",
        '(?i)(?:^|[\[\]<>(){}|!;,''"*\n\r \t&?+])ingress\.event\.procstart(?:$|[\[\]<>(){}|!;,''"*\n\r \t&?+/:=@.\-$#%\\_])'
      )
    )
),
-- rex field=Message "(?i)Beginning\sa\sWindows\sInstaller\stransaction:(\s+)?(?<process>.+)"
"s2_rex" AS (
  SELECT
    *
    REPLACE (COALESCE(
      NULLIF(
        REGEXP_EXTRACT(
          "Message",
          '(?i)Beginning\sa\sWindows\sInstaller\stransaction:(?:\s+)?(?P<process>.+)',
          1
        ),
        ''
      ),
      "process"
    ) AS "process")
  FROM "s1_search"
),
-- table _time, host, user host, signature_id, user, process
"s3_table" AS (
  SELECT
    "_time",
    "host",
    "user__2" AS "user",
    "signature_id",
    "process"
  FROM "s2_rex"
),
-- bin span=1s
"s4_bin" AS (
  SELECT
    *
    REPLACE (TIME_BUCKET(INTERVAL '1' SECOND, "_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS "_time")
  FROM "s3_table"
),
-- stats values(*) as * by _time, host
"s5_stats" AS (
  SELECT
    "_time",
    "host",
    LIST_SORT(ARRAY_AGG(DISTINCT "user") FILTER(WHERE
      NOT "user" IS NULL)) AS "user",
    LIST_SORT(
      ARRAY_AGG(DISTINCT PRINTF('%.15g', CAST("signature_id" AS DOUBLE))) FILTER(WHERE
        NOT "signature_id" IS NULL)
    ) AS "signature_id",
    LIST_SORT(ARRAY_AGG(DISTINCT "process") FILTER(WHERE
      NOT "process" IS NULL)) AS "process"
  FROM "s4_bin"
  WHERE
    NOT "_time" IS NULL AND NOT "host" IS NULL
  GROUP BY
    "_time",
    "host"
),
-- eventstats dc(process) as c_process by process
"s6_eventstats" AS (
  WITH "numbered" AS (
    SELECT
      *,
      ROW_NUMBER() OVER () AS "_sqld_row"
    FROM "s5_stats"
  ), "by_values_1" AS (
    SELECT
      "_sqld_row",
      UNNEST(LIST_DISTINCT("process")) AS "_sqld_key"
    FROM "numbered"
  ), "peers" AS (
    SELECT DISTINCT
      "a"."_sqld_row",
      "b"."_sqld_row" AS "_sqld_peer"
    FROM "by_values_1" AS "a"
    JOIN "by_values_1" AS "b"
      ON "a"."_sqld_key" = "b"."_sqld_key"
  ), "groups" AS (
    SELECT
      "peers"."_sqld_row",
      COALESCE(
        LEN(
          LIST_DISTINCT(FLATTEN(ARRAY_AGG("process") FILTER(WHERE
            NOT "process" IS NULL)))
        ),
        0
      ) AS "_sqld_agg_1"
    FROM "peers"
    JOIN "numbered"
      ON "numbered"."_sqld_row" = "peers"."_sqld_peer"
    GROUP BY
      "peers"."_sqld_row"
  )
  SELECT
    *
    EXCLUDE ("_sqld_row", "_sqld_agg_1"),
    "_sqld_agg_1" AS "c_process"
  FROM "numbered"
  LEFT JOIN "groups"
    USING ("_sqld_row")
),
-- where c_process < 2 and isnotnull(process)
"s7_where" AS (
  SELECT
    *
  FROM "s6_eventstats"
  WHERE
    (
      "c_process" < 2
    ) AND (
      NOT "process" IS NULL
    )
)
SELECT
  "_time",
  "host",
  "user",
  "signature_id",
  "process",
  "c_process"
FROM "s7_where"
ORDER BY
  "_time" ASC,
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC
