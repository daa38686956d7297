-- sqldetect: rule sqld-0032: Network Logon From a Public Address
-- ATT&CK: T1133, T1021
WITH
-- derived fields: src_ip
"s0_source" AS (
  SELECT
    *,
    CASE
      WHEN (
        LOWER("Channel") = 'microsoft-windows-sysmon/operational'
        OR "source" ILIKE '%WinEventLog:Microsoft-Windows-Sysmon/Operational'
      )
      AND "EventCode" = 3
      THEN "SourceIp"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      AND (
        "EventCode" = 5156 OR "EventCode" = 5157
      )
      THEN "SourceAddress"
      WHEN (
        LOWER("Channel") = 'security' OR "source" ILIKE '%WinEventLog:Security'
      )
      THEN CASE
        WHEN (
          (
            (
              "IpAddress" = '-'
            ) OR (
              "IpAddress" = ''
            )
          )
          OR (
            "IpAddress" = '::1'
          )
        )
        OR (
          "IpAddress" = '127.0.0.1'
        )
        THEN CAST(NULL AS TEXT)
        ELSE REGEXP_REPLACE("IpAddress", '^::ffff:', '', 'g')
      END
    END AS "src_ip"
  FROM "events"
),
-- EventCode=4624 Channel=Security LogonType IN (3, 10)
"s1_search" AS (
  SELECT
    *
  FROM "s0_source"
  WHERE
    "EventCode" = 4624
    AND LOWER("Channel") = 'security'
    AND (
      LOWER("LogonType") = '3' OR LOWER("LogonType") = '10'
    )
),
-- where match(IpAddress, "^\d{1,3}(\.\d{1,3}){3}$")
"s2_where" AS (
  SELECT
    *
  FROM "s1_search"
  WHERE
    REGEXP_MATCHES("IpAddress", '^\d{1,3}(\.\d{1,3}){3}$')
),
-- where NOT (cidrmatch("10.0.0.0/8", IpAddress) OR cidrmatch("172.16.0.0/12", IpAddress) OR cidrmatch("192.168.0.0/16", IpAddress) OR cidrmatch("127.0.0.0/8", IpAddress) OR cidrmatch("169.254.0.0/16", IpAddress))
"s3_where" AS (
  SELECT
    *
  FROM "s2_where"
  WHERE
    NOT (
      (
        (
          (
            COALESCE(
              TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                1
              ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                2
              ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                3
              ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                4
              ) AS BIGINT) BETWEEN 167772160 AND 184549375,
              FALSE
            )
            OR COALESCE(
              TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                1
              ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                2
              ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                3
              ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
                CAST("IpAddress" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                4
              ) AS BIGINT) BETWEEN 2886729728 AND 2887778303,
              FALSE
            )
          )
          OR COALESCE(
            TRY_CAST(REGEXP_EXTRACT(
              CAST("IpAddress" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              1
            ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
              CAST("IpAddress" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              2
            ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
              CAST("IpAddress" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              3
            ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
              CAST("IpAddress" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              4
            ) AS BIGINT) BETWEEN 3232235520 AND 3232301055,
            FALSE
          )
        )
        OR COALESCE(
          TRY_CAST(REGEXP_EXTRACT(
            CAST("IpAddress" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            1
          ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
            CAST("IpAddress" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            2
          ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
            CAST("IpAddress" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            3
          ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
            CAST("IpAddress" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            4
          ) AS BIGINT) BETWEEN 2130706432 AND 2147483647,
          FALSE
        )
      )
      OR COALESCE(
        TRY_CAST(REGEXP_EXTRACT(
          CAST("IpAddress" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          1
        ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
          CAST("IpAddress" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          2
        ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
          CAST("IpAddress" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          3
        ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
          CAST("IpAddress" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          4
        ) AS BIGINT) BETWEEN 2851995648 AND 2852061183,
        FALSE
      )
    )
),
-- eval logon_kind=case(LogonType="3", "network", LogonType="10", "remote interactive")
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN COALESCE(TRY_CAST("LogonType" AS DOUBLE) = TRY_CAST('3' AS DOUBLE), "LogonType" = '3')
      THEN 'network'
      WHEN COALESCE(TRY_CAST("LogonType" AS DOUBLE) = TRY_CAST('10' AS DOUBLE), "LogonType" = '10')
      THEN 'remote interactive'
    END AS "logon_kind"
  FROM "s3_where"
),
-- rename IpAddress as src_ip, TargetUserName as account, WorkstationName as src_workstation
"s5_rename" AS (
  SELECT
    *
    EXCLUDE ("src_ip")
    RENAME ("TargetUserName" AS "account", "WorkstationName" AS "src_workstation", "IpAddress" AS "src_ip")
  FROM "s4_eval"
),
-- stats count min(_time) as firstTime max(_time) as lastTime values(logon_kind) as logon_kinds values(AuthenticationPackageName) as auth_packages by host account src_ip src_workstation
"s6_stats" AS (
  SELECT
    "host",
    "account",
    "src_ip",
    "src_workstation",
    COUNT(*) AS "count",
    EPOCH(MIN("_time")) AS "firstTime",
    EPOCH(MAX("_time")) AS "lastTime",
    LIST_SORT(ARRAY_AGG(DISTINCT "logon_kind") FILTER(WHERE
      NOT "logon_kind" IS NULL)) AS "logon_kinds",
    LIST_SORT(
      ARRAY_AGG(DISTINCT "AuthenticationPackageName") FILTER(WHERE
        NOT "AuthenticationPackageName" IS NULL)
    ) AS "auth_packages"
  FROM "s5_rename"
  WHERE
    NOT "host" IS NULL
    AND NOT "account" IS NULL
    AND NOT "src_ip" IS NULL
    AND NOT "src_workstation" IS NULL
  GROUP BY
    "host",
    "account",
    "src_ip",
    "src_workstation"
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(firstTime) ctime(lastTime)
"s7_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("firstTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "firstTime", STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("lastTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "lastTime")
  FROM "s6_stats"
)
SELECT
  "host",
  "account",
  "src_ip",
  "src_workstation",
  "count",
  "firstTime",
  "lastTime",
  "logon_kinds",
  "auth_packages"
FROM "s7_convert"
ORDER BY
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC,
  TRY_CAST("account" AS DOUBLE) ASC,
  "account" ASC,
  TRY_CAST("src_ip" AS DOUBLE) ASC,
  "src_ip" ASC,
  TRY_CAST("src_workstation" AS DOUBLE) ASC,
  "src_workstation" ASC
