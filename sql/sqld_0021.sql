-- sqldetect: rule sqld-0021: Member Added to a Privileged Local Group
-- ATT&CK: T1098, T1078.003
WITH
-- EventCode=4732 Channel=Security
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4732 AND LOWER("Channel") = 'security'
),
-- lookup privileged_local_groups.csv group_sid AS TargetSid OUTPUT group_name privilege
"s2_lookup" AS (
  SELECT
    "row".*,
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out1") > 0 THEN "matched"."out1" END
    END AS "group_name",
    CASE
      WHEN "matched"."_sqld_matches" > 0
      THEN CASE WHEN LEN("matched"."out2") > 0 THEN "matched"."out2" END
    END AS "privilege"
  FROM "s1_search" AS "row"
  LEFT JOIN LATERAL (
    SELECT
      COUNT(*) AS "_sqld_matches",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."group_name" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out1",
      LIST_FILTER(
        LIST_SLICE(ARRAY_AGG("lookup"."privilege" ORDER BY "lookup"."_sqld_row" ASC), 1, 100),
        LAMBDA "_v" : NOT "_v" IS NULL
      ) AS "out2"
    FROM (
      SELECT
        *,
        ROW_NUMBER() OVER () AS "_sqld_row"
      FROM READ_CSV(
        'rules/lookups/privileged_local_groups.csv',
        "header" = TRUE,
        "all_varchar" = TRUE,
        "delim" = ','
      )
    ) AS "lookup"
    WHERE
      "lookup"."group_sid" = "row"."TargetSid"
  ) AS "matched"
    ON TRUE
),
-- where isnotnull(group_name)
"s3_where" AS (
  SELECT
    *
  FROM "s2_lookup"
  WHERE
    NOT "group_name" IS NULL
),
-- eval member=if(isnull(MemberName) OR MemberName="-", MemberSid, MemberName), changed_by=SubjectDomainName . "\\" . SubjectUserName
"s4_eval" AS (
  SELECT
    *,
    CASE
      WHEN (
        NOT (
          NOT "MemberName" IS NULL
        )
      ) OR (
        "MemberName" = '-'
      )
      THEN "MemberSid"
      ELSE "MemberName"
    END AS "member",
    "SubjectDomainName" || '\' || "SubjectUserName" AS "changed_by"
  FROM "s3_where"
),
-- table _time host changed_by member group_name privilege
"s5_table" AS (
  SELECT
    "_time",
    "host",
    "changed_by",
    "member",
    "group_name",
    "privilege",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s4_eval"
)
SELECT
  "_time",
  "host",
  "changed_by",
  "member",
  "group_name",
  "privilege"
FROM "s5_table"
ORDER BY
  "_sqld_seq" ASC
