-- sqldetect: rule sqld-0031: System Binary Name Running From an Unexpected Path
-- ATT&CK: T1036.005
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
-- eval process_path=coalesce(Image, NewProcessName), path_lower=lower(process_path), process_name=mvindex(split(path_lower, "\\"), -1)
"s2_eval" AS (
  SELECT
    *,
    COALESCE("Image", "NewProcessName") AS "process_path",
    LOWER(COALESCE("Image", "NewProcessName")) AS "path_lower",
    LIST_EXTRACT(STRING_SPLIT(LOWER(COALESCE("Image", "NewProcessName")), '\'), -1) AS "process_name"
  FROM "s1_search"
),
-- lookup windows_system_binaries.csv process_name OUTPUT process_name AS system_binary
"s3_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "system_binary"
  FROM "s2_eval" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."process_name" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV(
        'rules/lookups/windows_system_binaries.csv',
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
-- where isnotnull(system_binary)
"s4_where" AS (
  SELECT
    *
  FROM "s3_lookup"
  WHERE
    NOT "system_binary" IS NULL
),
-- lookup windows_system_binaries.csv process_name expected_path AS path_lower OUTPUT expected_path AS known_location
"s5_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "known_location"
  FROM "s4_where" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."expected_path" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV(
        'rules/lookups/windows_system_binaries.csv',
        "header" = TRUE,
        "all_varchar" = TRUE,
        "delim" = ','
      )
    ) AS "lookup"
    WHERE
      "lookup"."process_name" = "row"."process_name"
      AND "lookup"."expected_path" = "row"."path_lower"
  ) AS "matched"
    ON TRUE
),
-- where isnull(known_location)
"s6_where" AS (
  SELECT
    *
  FROM "s5_lookup"
  WHERE
    NOT (
      NOT "known_location" IS NULL
    )
),
-- eval parent_path=coalesce(ParentImage, ParentProcessName), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s7_eval" AS (
  SELECT
    *,
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s6_where"
),
-- table _time host EventCode user process_path parent_path CommandLine
"s8_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "process_path",
    "parent_path",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s7_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "process_path",
  "parent_path",
  "CommandLine"
FROM "s8_table"
ORDER BY
  "_sqld_seq" ASC
