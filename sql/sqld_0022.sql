-- sqldetect: rule sqld-0022: Account Created and Added to Administrators Within an Hour
-- ATT&CK: T1136.001, T1098
WITH
-- Channel=Security (EventCode=4720 OR (EventCode=4732 TargetSid="S-1-5-32-544"))
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    LOWER("Channel") = 'security'
    AND (
      "EventCode" = 4720 OR "EventCode" = 4732 AND LOWER("TargetSid") = 's-1-5-32-544'
    )
),
-- eval account_sid=if(EventCode=4720, TargetSid, MemberSid), account_name=if(EventCode=4720, TargetUserName, null())
"s2_eval" AS (
  SELECT
    *,
    CASE WHEN "EventCode" = 4720 THEN "TargetSid" ELSE "MemberSid" END AS "account_sid",
    CASE WHEN "EventCode" = 4720 THEN "TargetUserName" ELSE CAST(NULL AS TEXT) END AS "account_name"
  FROM "s1_search"
),
-- eval created_time=if(EventCode=4720, _time, null()), added_time=if(EventCode=4732, _time, null())
"s3_eval" AS (
  SELECT
    *,
    EPOCH(CASE WHEN "EventCode" = 4720 THEN "_time" ELSE CAST(NULL AS TIMESTAMP) END) AS "created_time",
    EPOCH(CASE WHEN "EventCode" = 4732 THEN "_time" ELSE CAST(NULL AS TIMESTAMP) END) AS "added_time"
  FROM "s2_eval"
),
-- stats min(created_time) as created_time min(added_time) as added_time values(account_name) as account_name values(SubjectUserName) as actors by host account_sid
"s4_stats" AS (
  SELECT
    "host",
    "account_sid",
    MIN("created_time") AS "created_time",
    MIN("added_time") AS "added_time",
    LIST_SORT(ARRAY_AGG(DISTINCT "account_name") FILTER(WHERE
      NOT "account_name" IS NULL)) AS "account_name",
    LIST_SORT(
      ARRAY_AGG(DISTINCT "SubjectUserName") FILTER(WHERE
        NOT "SubjectUserName" IS NULL)
    ) AS "actors"
  FROM "s3_eval"
  WHERE
    NOT "host" IS NULL AND NOT "account_sid" IS NULL
  GROUP BY
    "host",
    "account_sid"
),
-- where isnotnull(created_time) AND isnotnull(added_time) AND added_time >= created_time AND added_time - created_time <= 3600
"s5_where" AS (
  SELECT
    *
  FROM "s4_stats"
  WHERE
    (
      (
        (
          NOT "created_time" IS NULL
        ) AND (
          NOT "added_time" IS NULL
        )
      )
      AND (
        "added_time" >= "created_time"
      )
    )
    AND (
      "added_time" - "created_time" <= 3600
    )
),
-- eval minutes_between=round((added_time - created_time) / 60, 1)
"s6_eval" AS (
  SELECT
    *,
    ROUND((
      "added_time" - "created_time"
    ) / NULLIF(60, 0), TRY_CAST(1 AS INT)) AS "minutes_between"
  FROM "s5_where"
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(created_time) ctime(added_time)
"s7_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(
      MAKE_TIMESTAMP(TRY_CAST(ROUND("created_time" * 1e6) AS BIGINT)),
      '%Y-%m-%dT%H:%M:%SZ'
    ) AS "created_time", STRFTIME(
      MAKE_TIMESTAMP(TRY_CAST(ROUND("added_time" * 1e6) AS BIGINT)),
      '%Y-%m-%dT%H:%M:%SZ'
    ) AS "added_time")
  FROM "s6_eval"
),
-- table host account_name account_sid actors created_time added_time minutes_between
"s8_table" AS (
  SELECT
    "host",
    "account_name",
    "account_sid",
    "actors",
    "created_time",
    "added_time",
    "minutes_between"
  FROM "s7_convert"
)
SELECT
  "host",
  "account_name",
  "account_sid",
  "actors",
  "created_time",
  "added_time",
  "minutes_between"
FROM "s8_table"
ORDER BY
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC,
  TRY_CAST("account_sid" AS DOUBLE) ASC,
  "account_sid" ASC
