-- sqldetect: rule sqld-0012: LOLBin Connecting to a Public Address
-- ATT&CK: T1071.001, T1105
WITH
-- EventCode=3 Channel="Microsoft-Windows-Sysmon/Operational" Initiated=true
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 3
    AND LOWER("Channel") = 'microsoft-windows-sysmon/operational'
    AND LOWER("Initiated") = 'true'
),
-- eval process_name=lower(mvindex(split(Image, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT("Image", '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- lookup lolbins.csv process_name OUTPUT category
"s3_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "category"
  FROM "s2_eval" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."category" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV('rules/lookups/lolbins.csv', "header" = TRUE, "all_varchar" = TRUE, "delim" = ',')
    ) AS "lookup"
    WHERE
      "lookup"."process_name" = "row"."process_name"
  ) AS "matched"
    ON TRUE
),
-- where isnotnull(category) AND match(DestinationIp, "^\d{1,3}(\.\d{1,3}){3}$")
"s4_where" AS (
  SELECT
    *
  FROM "s3_lookup"
  WHERE
    (
      NOT "category" IS NULL
    )
    AND REGEXP_MATCHES("DestinationIp", '^\d{1,3}(\.\d{1,3}){3}$')
),
-- where NOT (cidrmatch("10.0.0.0/8", DestinationIp) OR cidrmatch("172.16.0.0/12", DestinationIp) OR cidrmatch("192.168.0.0/16", DestinationIp) OR cidrmatch("127.0.0.0/8", DestinationIp) OR cidrmatch("169.254.0.0/16", DestinationIp))
"s5_where" AS (
  SELECT
    *
  FROM "s4_where"
  WHERE
    NOT (
      (
        (
          (
            COALESCE(
              TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                1
              ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                2
              ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                3
              ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                4
              ) AS BIGINT) BETWEEN 167772160 AND 184549375,
              FALSE
            )
            OR COALESCE(
              TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                1
              ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                2
              ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                3
              ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
                CAST("DestinationIp" AS TEXT),
                '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
                4
              ) AS BIGINT) BETWEEN 2886729728 AND 2887778303,
              FALSE
            )
          )
          OR COALESCE(
            TRY_CAST(REGEXP_EXTRACT(
              CAST("DestinationIp" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              1
            ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
              CAST("DestinationIp" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              2
            ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
              CAST("DestinationIp" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              3
            ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
              CAST("DestinationIp" AS TEXT),
              '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
              4
            ) AS BIGINT) BETWEEN 3232235520 AND 3232301055,
            FALSE
          )
        )
        OR COALESCE(
          TRY_CAST(REGEXP_EXTRACT(
            CAST("DestinationIp" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            1
          ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
            CAST("DestinationIp" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            2
          ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
            CAST("DestinationIp" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            3
          ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
            CAST("DestinationIp" AS TEXT),
            '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
            4
          ) AS BIGINT) BETWEEN 2130706432 AND 2147483647,
          FALSE
        )
      )
      OR COALESCE(
        TRY_CAST(REGEXP_EXTRACT(
          CAST("DestinationIp" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          1
        ) AS BIGINT) * 16777216 + TRY_CAST(REGEXP_EXTRACT(
          CAST("DestinationIp" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          2
        ) AS BIGINT) * 65536 + TRY_CAST(REGEXP_EXTRACT(
          CAST("DestinationIp" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          3
        ) AS BIGINT) * 256 + TRY_CAST(REGEXP_EXTRACT(
          CAST("DestinationIp" AS TEXT),
          '^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$',
          4
        ) AS BIGINT) BETWEEN 2851995648 AND 2852061183,
        FALSE
      )
    )
),
-- dedup host process_name DestinationIp
"s6_dedup" AS (
  SELECT
    *
  FROM "s5_where"
  WHERE
    NOT "host" IS NULL AND NOT "process_name" IS NULL AND NOT "DestinationIp" IS NULL
  QUALIFY
    ROW_NUMBER() OVER (
      PARTITION BY "host", "process_name", "DestinationIp"
      ORDER BY "_time" DESC, "_serial" DESC
    ) <= 1
),
-- table _time host User Image category DestinationIp DestinationPort DestinationHostname
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "User",
    "Image",
    "category",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s6_dedup"
)
SELECT
  "_time",
  "host",
  "User",
  "Image",
  "category",
  "DestinationIp",
  "DestinationPort",
  "DestinationHostname"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
