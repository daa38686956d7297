-- sqldetect: rule sqld-0026: Successful Logon After Repeated Failures
-- ATT&CK: T1110.001, T1078
WITH
-- (EventCode=4625 OR EventCode=4624) Channel=Security LogonType IN (2, 3, 10)
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    (
      "EventCode" = 4625 OR "EventCode" = 4624
    )
    AND LOWER("Channel") = 'security'
    AND (
      LOWER("LogonType") = '2' OR LOWER("LogonType") = '3' OR LOWER("LogonType") = '10'
    )
),
-- eval src=coalesce(nullif(IpAddress, "-"), WorkstationName), account=lower(TargetUserName)
"s2_eval" AS (
  SELECT
    *,
    COALESCE(NULLIF("IpAddress", '-'), "WorkstationName") AS "src",
    LOWER("TargetUserName") AS "account"
  FROM "s1_search"
),
-- eval failure_time=if(EventCode=4625, _time, null())
"s3_eval" AS (
  SELECT
    *,
    EPOCH(CASE WHEN "EventCode" = 4625 THEN "_time" ELSE CAST(NULL AS TIMESTAMP) END) AS "failure_time"
  FROM "s2_eval"
),
-- sort 0 _time
"s4_sort" AS (
  SELECT
    *
  FROM "s3_eval"
),
-- streamstats current=f window=10 count(failure_time) as prior_failures min(failure_time) as first_failure by src account
"s5_streamstats" AS (
  SELECT
    *
    EXCLUDE ("_sqld_pos"),
    CASE
      WHEN NOT "src" IS NULL AND NOT "account" IS NULL
      THEN COUNT("failure_time") OVER (
        PARTITION BY "src", "account"
        ORDER BY "_sqld_pos"
        RANGE BETWEEN 10 PRECEDING AND 1 PRECEDING
      )
    END AS "prior_failures",
    CASE
      WHEN NOT "src" IS NULL AND NOT "account" IS NULL
      THEN MIN("failure_time") OVER (
        PARTITION BY "src", "account"
        ORDER BY "_sqld_pos"
        RANGE BETWEEN 10 PRECEDING AND 1 PRECEDING
      )
    END AS "first_failure"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (ORDER BY "_time" ASC, "_time" DESC, "_serial" DESC) AS "_sqld_pos"
    FROM "s4_sort"
  ) AS "numbered"
),
-- where EventCode=4624 AND prior_failures >= 5 AND _time - first_failure <= 600
"s6_where" AS (
  SELECT
    *
  FROM "s5_streamstats"
  WHERE
    (
      (
        "EventCode" = 4624
      ) AND (
        "prior_failures" >= 5
      )
    )
    AND (
      EPOCH("_time") - "first_failure" <= 600
    )
),
-- eval minutes_since_first_failure=round((_time - first_failure) / 60, 1)
"s7_eval" AS (
  SELECT
    *,
    ROUND((
      EPOCH("_time") - "first_failure"
    ) / NULLIF(60, 0), TRY_CAST(1 AS INT)) AS "minutes_since_first_failure"
  FROM "s6_where"
),
-- table _time host account src prior_failures minutes_since_first_failure LogonType AuthenticationPackageName
"s8_table" AS (
  SELECT
    "_time",
    "host",
    "account",
    "src",
    "prior_failures",
    "minutes_since_first_failure",
    "LogonType",
    "AuthenticationPackageName",
    ROW_NUMBER() OVER (ORDER BY "_time" ASC, "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s7_eval"
)
SELECT
  "_time",
  "host",
  "account",
  "src",
  "prior_failures",
  "minutes_since_first_failure",
  "LogonType",
  "AuthenticationPackageName"
FROM "s8_table"
ORDER BY
  "_sqld_seq" ASC
