-- sqldetect: rule sqld-0029: DNS Query to Dynamic DNS or From a Program in a User-Writable Path
-- ATT&CK: T1071.004, T1568
WITH
-- EventCode=22 Channel="Microsoft-Windows-Sysmon/Operational"
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 22 AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
),
-- eval query=lower(QueryName), process_dir=replace(lower(Image), "\\\\", "/")
"s2_eval" AS (
  SELECT
    *,
    LOWER("QueryName") AS "query__2",
    REGEXP_REPLACE(LOWER("Image"), '\\', '/', 'g') AS "process_dir"
  FROM "s1_search"
),
-- rex field=query "(?<parent_domain>[^.]+\.[^.]+)$"
"s3_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("query__2", '(?P<parent_domain>[^.]+\.[^.]+)$', 1), '') AS "parent_domain"
  FROM "s2_eval"
),
-- lookup dynamic_dns_domains.csv parent_domain OUTPUT provider
"s4_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "provider__2"
  FROM "s3_rex" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."provider" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV(
        'rules/lookups/dynamic_dns_domains.csv',
        "header" = TRUE,
        "all_varchar" = TRUE,
        "delim" = ','
      )
    ) AS "lookup"
    WHERE
      "lookup"."parent_domain" = "row"."parent_domain"
  ) AS "matched"
    ON TRUE
),
-- eval reasons=mvappend( if(isnotnull(provider), "dynamic DNS or tunnel: " . provider, null()), if(match(process_dir, "/(users/public|windows/temp|programdata|perflogs|appdata/local/temp|downloads)/"), "program in user-writable path", null()))
"s5_eval" AS (
  SELECT
    *,
    CASE
      WHEN LEN(
        LIST_CONCAT(
          CASE
            WHEN CASE
              WHEN NOT "provider__2" IS NULL
              THEN 'dynamic DNS or tunnel: ' || LIST_EXTRACT("provider__2", 1)
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN NOT "provider__2" IS NULL
                THEN 'dynamic DNS or tunnel: ' || LIST_EXTRACT("provider__2", 1)
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END,
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES(
                "process_dir",
                '/(users/public|windows/temp|programdata|perflogs|appdata/local/temp|downloads)/'
              )
              THEN 'program in user-writable path'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES(
                  "process_dir",
                  '/(users/public|windows/temp|programdata|perflogs|appdata/local/temp|downloads)/'
                )
                THEN 'program in user-writable path'
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
            WHEN NOT "provider__2" IS NULL
            THEN 'dynamic DNS or tunnel: ' || LIST_EXTRACT("provider__2", 1)
            ELSE CAST(NULL AS TEXT)
          END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE
              WHEN NOT "provider__2" IS NULL
              THEN 'dynamic DNS or tunnel: ' || LIST_EXTRACT("provider__2", 1)
              ELSE CAST(NULL AS TEXT)
            END
          ]
        END,
        CASE
          WHEN CASE
            WHEN REGEXP_MATCHES(
              "process_dir",
              '/(users/public|windows/temp|programdata|perflogs|appdata/local/temp|downloads)/'
            )
            THEN 'program in user-writable path'
            ELSE CAST(NULL AS TEXT)
          END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE
              WHEN REGEXP_MATCHES(
                "process_dir",
                '/(users/public|windows/temp|programdata|perflogs|appdata/local/temp|downloads)/'
              )
              THEN 'program in user-writable path'
              ELSE CAST(NULL AS TEXT)
            END
          ]
        END
      )
    END AS "reasons"
  FROM "s4_lookup"
),
-- where mvcount(reasons) > 0
"s6_where" AS (
  SELECT
    *
  FROM "s5_eval"
  WHERE
    NULLIF(LEN("reasons"), 0) > 0
),
-- stats count min(_time) as firstTime values(reasons) as reasons values(QueryResults) as answers by host Image query
"s7_stats" AS (
  SELECT
    "host",
    "Image",
    "query__2" AS "query",
    COUNT(*) AS "count",
    EPOCH(MIN("_time")) AS "firstTime",
    LIST_SORT(
      LIST_DISTINCT(FLATTEN(ARRAY_AGG("reasons") FILTER(WHERE
        NOT "reasons" IS NULL)))
    ) AS "reasons",
    LIST_SORT(ARRAY_AGG(DISTINCT "QueryResults") FILTER(WHERE
      NOT "QueryResults" IS NULL)) AS "answers"
  FROM "s6_where"
  WHERE
    NOT "host" IS NULL AND NOT "Image" IS NULL AND NOT "query__2" IS NULL
  GROUP BY
    "host",
    "Image",
    "query__2"
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(firstTime)
"s8_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("firstTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "firstTime")
  FROM "s7_stats"
)
SELECT
  "host",
  "Image",
  "query",
  "count",
  "firstTime",
  "reasons",
  "answers"
FROM "s8_convert"
ORDER BY
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC,
  TRY_CAST("Image" AS DOUBLE) ASC,
  "Image" ASC,
  TRY_CAST("query" AS DOUBLE) ASC,
  "query" ASC
