-- sqldetect: rule sqld-0025: Password Spray From One Source
-- ATT&CK: T1110.003
WITH
-- EventCode=4625 Channel=Security LogonType IN (3, 10)
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4625
    AND LOWER("Channel") = 'security'
    AND (
      LOWER("LogonType") = '3' OR LOWER("LogonType") = '10'
    )
),
-- eval src=coalesce(nullif(IpAddress, "-"), WorkstationName)
"s2_eval" AS (
  SELECT
    *,
    COALESCE(NULLIF("IpAddress", '-'), "WorkstationName") AS "src"
  FROM "s1_search"
),
-- bin _time span=15m
"s3_bin" AS (
  SELECT
    *
    REPLACE (TIME_BUCKET(INTERVAL '15' MINUTE, "_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS "_time")
  FROM "s2_eval"
),
-- stats dc(TargetUserName) as account_count count as failures values(TargetUserName) as accounts values(host) as targets by _time src
"s4_stats" AS (
  SELECT
    "_time",
    "src",
    COUNT(DISTINCT "TargetUserName") AS "account_count",
    COUNT(*) AS "failures",
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
-- eval attempts_per_account=round(failures / account_count, 2)
"s5_eval" AS (
  SELECT
    *,
    ROUND("failures" / NULLIF("account_count", 0), TRY_CAST(2 AS INT)) AS "attempts_per_account"
  FROM "s4_stats"
),
-- where account_count >= 5 AND attempts_per_account <= 2
"s6_where" AS (
  SELECT
    *
  FROM "s5_eval"
  WHERE
    (
      "account_count" >= 5
    ) AND (
      "attempts_per_account" <= 2
    )
)
SELECT
  "_time",
  "src",
  "account_count",
  "failures",
  "accounts",
  "targets",
  "attempts_per_account"
FROM "s6_where"
ORDER BY
  "_time" ASC,
  TRY_CAST("src" AS DOUBLE) ASC,
  "src" ASC
