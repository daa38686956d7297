-- sqldetect: rule sqld-0034: Account Created or Added to a Group With net.exe
-- ATT&CK: T1136.001, T1098
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") CommandLine="*/add*"
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
    AND "CommandLine" ILIKE '%/add%'
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- where process_name IN ("net.exe", "net1.exe")
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      "process_name" = 'net.exe' OR "process_name" = 'net1.exe'
    )
),
-- rex field=CommandLine "(?i)\b(?:localgroup|group)\s+(?:\"(?<quoted_group>[^\"]+)\"|(?<bare_group>[^\s\"/]+))\s+\"?(?<member>[^\s\"/]+)"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)\b(?:localgroup|group)\s+(?:"(?P<quoted_group>[^"]+)"|(?P<bare_group>[^\s"/]+))\s+"?(?P<member>[^\s"/]+)',
        1
      ),
      ''
    ) AS "quoted_group",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)\b(?:localgroup|group)\s+(?:"(?P<quoted_group>[^"]+)"|(?P<bare_group>[^\s"/]+))\s+"?(?P<member>[^\s"/]+)',
        2
      ),
      ''
    ) AS "bare_group",
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)\b(?:localgroup|group)\s+(?:"(?P<quoted_group>[^"]+)"|(?P<bare_group>[^\s"/]+))\s+"?(?P<member>[^\s"/]+)',
        3
      ),
      ''
    ) AS "member"
  FROM "s3_where"
),
-- rex field=CommandLine "(?i)\buser\s+\"?(?<new_account>[^\s\"/]+)"
"s5_rex" AS (
  SELECT
    *,
    NULLIF(REGEXP_EXTRACT("CommandLine", '(?i)\buser\s+"?(?P<new_account>[^\s"/]+)', 1), '') AS "new_account"
  FROM "s4_rex"
),
-- eval group=coalesce(quoted_group, bare_group)
"s6_eval" AS (
  SELECT
    *,
    COALESCE("quoted_group", "bare_group") AS "group"
  FROM "s5_rex"
),
-- eval action=case( match(lower(group), "^administrators$"), "added to Administrators", match(lower(group), "^(domain|enterprise|schema) admins$"), "added to " . group, isnotnull(group), "added to group " . group, isnotnull(new_account), "account created")
"s7_eval" AS (
  SELECT
    *,
    CASE
      WHEN REGEXP_MATCHES(LOWER("group"), '^administrators$')
      THEN 'added to Administrators'
      WHEN REGEXP_MATCHES(LOWER("group"), '^(domain|enterprise|schema) admins$')
      THEN 'added to ' || "group"
      WHEN NOT "group" IS NULL
      THEN 'added to group ' || "group"
      WHEN NOT "new_account" IS NULL
      THEN 'account created'
    END AS "action"
  FROM "s6_eval"
),
-- where isnotnull(action)
"s8_where" AS (
  SELECT
    *
  FROM "s7_eval"
  WHERE
    NOT "action" IS NULL
),
-- eval account=coalesce(member, new_account), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s9_eval" AS (
  SELECT
    *,
    COALESCE("member", "new_account") AS "account",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s8_where"
),
-- table _time host EventCode user action account
"s10_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "action",
    "account",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s9_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "action",
  "account"
FROM "s10_table"
ORDER BY
  "_sqld_seq" ASC
