-- sqldetect: rule sqld-0019: Service Installed From a User-Writable Directory
-- ATT&CK: T1543.003, T1574.010
WITH
-- EventCode=4697 Channel=Security
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4697 AND LOWER("Channel") = 'security'
),
-- eval path=replace(lower(ServiceFileName), "\\\\", "/")
"s2_eval" AS (
  SELECT
    *,
    REGEXP_REPLACE(LOWER("ServiceFileName"), '\\', '/', 'g') AS "path__2"
  FROM "s1_search"
),
-- where match(path, "/(windows/temp|users/public|programdata|perflogs|\$recycle\.bin)/|/appdata/(local|roaming)/")
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    REGEXP_MATCHES(
      "path__2",
      '/(windows/temp|users/public|programdata|perflogs|\$recycle\.bin)/|/appdata/(local|roaming)/'
    )
),
-- where NOT match(path, "^\"?[a-z]:/programdata/microsoft/windows defender/platform/")
"s4_where" AS (
  SELECT
    *
  FROM "s3_where"
  WHERE
    NOT REGEXP_MATCHES("path__2", '^"?[a-z]:/programdata/microsoft/windows defender/platform/')
),
-- eval start_type=case(ServiceStartType="0", "boot", ServiceStartType="1", "system", ServiceStartType="2", "auto start", ServiceStartType="3", "demand start", ServiceStartType="4", "disabled", true(), ServiceStartType)
"s5_eval" AS (
  SELECT
    *,
    CASE
      WHEN COALESCE(
        TRY_CAST("ServiceStartType" AS DOUBLE) = TRY_CAST('0' AS DOUBLE),
        "ServiceStartType" = '0'
      )
      THEN 'boot'
      WHEN COALESCE(
        TRY_CAST("ServiceStartType" AS DOUBLE) = TRY_CAST('1' AS DOUBLE),
        "ServiceStartType" = '1'
      )
      THEN 'system'
      WHEN COALESCE(
        TRY_CAST("ServiceStartType" AS DOUBLE) = TRY_CAST('2' AS DOUBLE),
        "ServiceStartType" = '2'
      )
      THEN 'auto start'
      WHEN COALESCE(
        TRY_CAST("ServiceStartType" AS DOUBLE) = TRY_CAST('3' AS DOUBLE),
        "ServiceStartType" = '3'
      )
      THEN 'demand start'
      WHEN COALESCE(
        TRY_CAST("ServiceStartType" AS DOUBLE) = TRY_CAST('4' AS DOUBLE),
        "ServiceStartType" = '4'
      )
      THEN 'disabled'
      WHEN TRUE
      THEN "ServiceStartType"
    END AS "start_type"
  FROM "s4_where"
),
-- eval installed_by=SubjectDomainName . "\\" . SubjectUserName
"s6_eval" AS (
  SELECT
    *,
    "SubjectDomainName" || '\' || "SubjectUserName" AS "installed_by"
  FROM "s5_eval"
),
-- table _time host installed_by ServiceName ServiceFileName ServiceAccount start_type
"s7_table" AS (
  SELECT
    "_time",
    "host",
    "installed_by",
    "ServiceName",
    "ServiceFileName",
    "ServiceAccount",
    "start_type",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s6_eval"
)
SELECT
  "_time",
  "host",
  "installed_by",
  "ServiceName",
  "ServiceFileName",
  "ServiceAccount",
  "start_type"
FROM "s7_table"
ORDER BY
  "_sqld_seq" ASC
