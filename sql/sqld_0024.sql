-- sqldetect: rule sqld-0024: Brute Force From One Source
-- ATT&CK: T1110.001
WITH
-- EventCode=4625 Channel=Security
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4625 AND LOWER("Channel") = 'security'
),
-- eval src=if(isnull(IpAddress) OR IpAddress="-", WorkstationName, IpAddress)
"s2_eval" AS (
  SELECT
    *,
    CASE
      WHEN (
        NOT (
          NOT "IpAddress" IS NULL
        )
      ) OR (
        "IpAddress" = '-'
      )
      THEN "WorkstationName"
      ELSE "IpAddress"
    END AS "src"
  FROM "s1_search"
),
-- bin _time span=5m
"s3_bin" AS (
  SELECT
    *
    REPLACE (TIME_BUCKET(INTERVAL '5' MINUTE, "_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS "_time")
  FROM "s2_eval"
),
-- stats count as failures dc(TargetUserName) as account_count values(TargetUserName) as accounts values(host) as targets by _time src
"s4_stats" AS (
  SELECT
    "_time",
    "src",
    COUNT(*) AS "failures",
    COUNT(DISTINCT "TargetUserName") AS "account_count",
    LIST_SORT(
      ARRAY_AGG(DISTINCT "TargetUserName") FILTER(WHERE
        NOT "TargetUserName" IS NULL)
    ) AS "accounts",
    LIST_SORT(ARRAY_AGG(DISTINCT "host") FILTER(WHERE
      NOT "host" IS NULL)) AS "targets"
  FROM "s3_bin"
  WHERE
    NOT "_time" IS NULL AND NOT "src" IS NULL
  GROUP BY
    "_time",
    "src"
),
-- where failures >= 10
"s5_where" AS (
  SELECT
    *
  FROM "s4_stats"
  WHERE
    "failures" >= 10
)
SELECT
  "_time",
  "src",
  "failures",
  "account_count",
  "accounts",
  "targets"
FROM "s5_where"
ORDER BY
  "_time" ASC,
  TRY_CAST("src" AS DOUBLE) ASC,
  "src" ASC
