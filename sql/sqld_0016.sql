-- sqldetect: rule sqld-0016: Burst of Discovery Commands
-- ATT&CK: T1033, T1087, T1016
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational")
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
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1)), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s1_search"
),
-- lookup discovery_tools.csv process_name OUTPUT discovery_type
"s3_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "discovery_type"
  FROM "s2_eval" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."discovery_type" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV(
        'rules/lookups/discovery_tools.csv',
        "header" = TRUE,
        "all_varchar" = TRUE,
        "delim" = ','
      )
    ) AS "lookup"
    WHERE
      "lookup"."process_name" = "row"."process_name"
  ) AS "matched"
    ON TRUE
),
-- where isnotnull(discovery_type)
"s4_where" AS (
  SELECT
    *
  FROM "s3_lookup"
  WHERE
    NOT "discovery_type" IS NULL
),
-- bin _time span=10m
"s5_bin" AS (
  SELECT
    *
    REPLACE (TIME_BUCKET(INTERVAL '10' MINUTE, "_time", CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS "_time")
  FROM "s4_where"
),
-- stats dc(process_name) as tool_count values(process_name) as tools values(discovery_type) as discovery_types count as executions by _time host user
"s6_stats" AS (
  SELECT
    "_time",
    "host",
    "user__2" AS "user",
    COUNT(DISTINCT "process_name") AS "tool_count",
    LIST_SORT(ARRAY_AGG(DISTINCT "process_name") FILTER(WHERE
      NOT "process_name" IS NULL)) AS "tools",
    LIST_SORT(
      LIST_DISTINCT(
        FLATTEN(ARRAY_AGG("discovery_type") FILTER(WHERE
          NOT "discovery_type" IS NULL))
      )
    ) AS "discovery_types",
    COUNT(*) AS "executions"
  FROM "s5_bin"
  WHERE
    NOT "_time" IS NULL AND NOT "host" IS NULL AND NOT "user__2" IS NULL
  GROUP BY
    "_time",
    "host",
    "user__2"
),
-- where tool_count >= 4
"s7_where" AS (
  SELECT
    *
  FROM "s6_stats"
  WHERE
    "tool_count" >= 4
)
SELECT
  "_time",
  "host",
  "user",
  "tool_count",
  "tools",
  "discovery_types",
  "executions"
FROM "s7_where"
ORDER BY
  "_time" ASC,
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC,
  TRY_CAST("user" AS DOUBLE) ASC,
  "user" ASC
