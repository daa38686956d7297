-- sqldetect: rule sqld-0030: Rare Child Process of a Common Parent
-- ATT&CK: T1059, T1036
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
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1)), parent_name=lower(mvindex(split(coalesce(ParentImage, ParentProcessName), "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name",
    LOWER(
      LIST_EXTRACT(STRING_SPLIT(COALESCE("ParentImage", "ParentProcessName"), '\'), -1)
    ) AS "parent_name"
  FROM "s1_search"
),
-- stats count as pair_count values(host) as hosts min(_time) as firstTime values(CommandLine) as command_lines by EventCode parent_name process_name
"s3_stats" AS (
  SELECT
    "EventCode",
    "parent_name",
    "process_name",
    COUNT(*) AS "pair_count",
    LIST_SORT(ARRAY_AGG(DISTINCT "host") FILTER(WHERE
      NOT "host" IS NULL)) AS "hosts",
    EPOCH(MIN("_time")) AS "firstTime",
    LIST_SORT(ARRAY_AGG(DISTINCT "CommandLine") FILTER(WHERE
      NOT "CommandLine" IS NULL)) AS "command_lines"
  FROM "s2_eval"
  WHERE
    NOT "EventCode" IS NULL
    AND NOT "parent_name" IS NULL
    AND NOT "process_name" IS NULL
  GROUP BY
    "EventCode",
    "parent_name",
    "process_name"
),
-- eventstats sum(pair_count) as parent_total dc(process_name) as parent_children by EventCode parent_name
"s4_eventstats" AS (
  SELECT
    *,
    CASE
      WHEN NOT "EventCode" IS NULL AND NOT "parent_name" IS NULL
      THEN SUM("pair_count") OVER (PARTITION BY "EventCode", "parent_name")
    END AS "parent_total",
    CASE
      WHEN NOT "EventCode" IS NULL AND NOT "parent_name" IS NULL
      THEN COUNT(DISTINCT "process_name") OVER (PARTITION BY "EventCode", "parent_name")
    END AS "parent_children"
  FROM "s3_stats"
),
-- eval parent_diversity=round(parent_children / parent_total, 2)
"s5_eval" AS (
  SELECT
    *,
    ROUND("parent_children" / NULLIF("parent_total", 0), TRY_CAST(2 AS INT)) AS "parent_diversity"
  FROM "s4_eventstats"
),
-- where parent_total >= 10 AND pair_count = 1 AND parent_diversity <= 0.3
"s6_where" AS (
  SELECT
    *
  FROM "s5_eval"
  WHERE
    (
      (
        "parent_total" >= 10
      ) AND (
        "pair_count" = 1
      )
    )
    AND (
      "parent_diversity" <= 0.3
    )
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(firstTime)
"s7_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("firstTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "firstTime")
  FROM "s6_where"
),
-- table firstTime EventCode parent_name process_name pair_count parent_total parent_children parent_diversity hosts command_lines
"s8_table" AS (
  SELECT
    "firstTime",
    "EventCode",
    "parent_name",
    "process_name",
    "pair_count",
    "parent_total",
    "parent_children",
    "parent_diversity",
    "hosts",
    "command_lines"
  FROM "s7_convert"
)
SELECT
  "firstTime",
  "EventCode",
  "parent_name",
  "process_name",
  "pair_count",
  "parent_total",
  "parent_children",
  "parent_diversity",
  "hosts",
  "command_lines"
FROM "s8_table"
ORDER BY
  TRY_CAST("EventCode" AS DOUBLE) ASC,
  "EventCode" ASC,
  TRY_CAST("parent_name" AS DOUBLE) ASC,
  "parent_name" ASC,
  TRY_CAST("process_name" AS DOUBLE) ASC,
  "process_name" ASC
