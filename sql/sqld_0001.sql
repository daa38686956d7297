-- sqldetect: rule sqld-0001: Encoded PowerShell Command Line
-- ATT&CK: T1059.001, T1027
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
-- eval process_path=coalesce(Image, NewProcessName), process_name=lower(mvindex(split(process_path, "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    COALESCE("Image", "NewProcessName") AS "process_path",
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- search process_name IN ("powershell.exe", "pwsh.exe", "powershell_ise.exe")
"s3_search" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      LOWER("process_name") = 'powershell.exe'
      OR LOWER("process_name") = 'pwsh.exe'
      OR LOWER("process_name") = 'powershell_ise.exe'
    )
),
-- rex field=CommandLine "(?i)\s[-/](?:e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)\s+(?<encoded_command>[A-Za-z0-9+/=]{16,})"
"s4_rex" AS (
  SELECT
    *,
    NULLIF(
      REGEXP_EXTRACT(
        "CommandLine",
        '(?i)\s[-/](?:e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)\s+(?P<encoded_command>[A-Za-z0-9+/=]{16,})',
        1
      ),
      ''
    ) AS "encoded_command"
  FROM "s3_search"
),
-- where isnotnull(encoded_command)
"s5_where" AS (
  SELECT
    *
  FROM "s4_rex"
  WHERE
    NOT "encoded_command" IS NULL
),
-- eval user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName), parent_path=coalesce(ParentImage, ParentProcessName), encoded_length=len(encoded_command)
"s6_eval" AS (
  SELECT
    *,
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2",
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path",
    LENGTH("encoded_command") AS "encoded_length"
  FROM "s5_where"
),
-- table _time host EventCode user parent_path process_path encoded_length encoded_command
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "parent_path",
    "process_path",
    "encoded_length",
    "encoded_command",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s6_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "parent_path",
  "process_path",
  "encoded_length",
  "encoded_command"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
