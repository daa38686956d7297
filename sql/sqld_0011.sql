-- sqldetect: rule sqld-0011: Office Application Spawning a Shell or Script Host
-- ATT&CK: T1566.001, T1204.002
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
-- eval parent_path=coalesce(ParentImage, ParentProcessName), parent_name=lower(mvindex(split(parent_path, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path",
    LOWER(
      LIST_EXTRACT(STRING_SPLIT(COALESCE("ParentImage", "ParentProcessName"), '\'), -1)
    ) AS "parent_name"
  FROM "s1_search"
),
-- search parent_name IN ("winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "msaccess.exe", "mspub.exe", "onenote.exe")
"s3_search" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      LOWER("parent_name") = 'winword.exe'
      OR LOWER("parent_name") = 'excel.exe'
      OR LOWER("parent_name") = 'powerpnt.exe'
      OR LOWER("parent_name") = 'outlook.exe'
      OR LOWER("parent_name") = 'msaccess.exe'
      OR LOWER("parent_name") = 'mspub.exe'
      OR LOWER("parent_name") = 'onenote.exe'
    )
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1))
"s4_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s3_search"
),
-- lookup lolbins.csv process_name OUTPUT category
"s5_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "category"
  FROM "s4_eval" AS "row"
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
-- search category IN ("shell", "script_host", "proxy_execution", "execution", "download")
"s6_search" AS (
  SELECT
    *
  FROM "s5_lookup"
  WHERE
    (
      LIST_BOOL_OR(LIST_TRANSFORM("category", LAMBDA "_v" : LOWER("_v") = 'shell'))
      OR LIST_BOOL_OR(LIST_TRANSFORM("category", LAMBDA "_v" : LOWER("_v") = 'script_host'))
      OR LIST_BOOL_OR(LIST_TRANSFORM("category", LAMBDA "_v" : LOWER("_v") = 'proxy_execution'))
      OR LIST_BOOL_OR(LIST_TRANSFORM("category", LAMBDA "_v" : LOWER("_v") = 'execution'))
      OR LIST_BOOL_OR(LIST_TRANSFORM("category", LAMBDA "_v" : LOWER("_v") = 'download'))
    )
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s7_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s6_search"
),
-- table _time host EventCode user parent_name process_name category CommandLine
"s8_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "parent_name",
    "process_name",
    "category",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s7_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "parent_name",
  "process_name",
  "category",
  "CommandLine"
FROM "s8_table"
ORDER BY
  "_sqld_seq" ASC
