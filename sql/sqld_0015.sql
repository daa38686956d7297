-- sqldetect: rule sqld-0015: Web Server Process Spawning a Shell or Discovery Tool
-- ATT&CK: T1505.003
WITH
-- (EventCode=4688 Channel=Security) OR (EventCode=1 Channel="Microsoft-Windows-Sysmon/Operational") (ParentImage IN ("*\\w3wp.exe", "*\\httpd.exe", "*\\nginx.exe", "*\\php-cgi.exe", "*\\tomcat*.exe", "*\\UMWorkerProcess.exe") OR ParentProcessName IN ("*\\w3wp.exe", "*\\httpd.exe", "*\\nginx.exe", "*\\php-cgi.exe", "*\\tomcat*.exe", "*\\UMWorkerProcess.exe"))
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
    AND (
      (
        "ParentImage" ILIKE '%\w3wp.exe'
        OR "ParentImage" ILIKE '%\httpd.exe'
        OR "ParentImage" ILIKE '%\nginx.exe'
        OR "ParentImage" ILIKE '%\php-cgi.exe'
        OR "ParentImage" ILIKE '%\tomcat%.exe'
        OR "ParentImage" ILIKE '%\UMWorkerProcess.exe'
      )
      OR (
        "ParentProcessName" ILIKE '%\w3wp.exe'
        OR "ParentProcessName" ILIKE '%\httpd.exe'
        OR "ParentProcessName" ILIKE '%\nginx.exe'
        OR "ParentProcessName" ILIKE '%\php-cgi.exe'
        OR "ParentProcessName" ILIKE '%\tomcat%.exe'
        OR "ParentProcessName" ILIKE '%\UMWorkerProcess.exe'
      )
    )
),
-- eval process_name=lower(mvindex(split(coalesce(Image, NewProcessName), "\\"), -1))
"s2_eval" AS (
  SELECT
    *,
    LOWER(LIST_EXTRACT(STRING_SPLIT(COALESCE("Image", "NewProcessName"), '\'), -1)) AS "process_name"
  FROM "s1_search"
),
-- search process_name IN ("cmd.exe", "powershell.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "whoami.exe", "net.exe", "net1.exe", "ipconfig.exe", "systeminfo.exe", "nltest.exe", "tasklist.exe", "quser.exe", "certutil.exe")
"s3_search" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    (
      LOWER("process_name") = 'cmd.exe'
      OR LOWER("process_name") = 'powershell.exe'
      OR LOWER("process_name") = 'pwsh.exe'
      OR LOWER("process_name") = 'wscript.exe'
      OR LOWER("process_name") = 'cscript.exe'
      OR LOWER("process_name") = 'whoami.exe'
      OR LOWER("process_name") = 'net.exe'
      OR LOWER("process_name") = 'net1.exe'
      OR LOWER("process_name") = 'ipconfig.exe'
      OR LOWER("process_name") = 'systeminfo.exe'
      OR LOWER("process_name") = 'nltest.exe'
      OR LOWER("process_name") = 'tasklist.exe'
      OR LOWER("process_name") = 'quser.exe'
      OR LOWER("process_name") = 'certutil.exe'
    )
),
-- eval parent_path=coalesce(ParentImage, ParentProcessName), user=coalesce(User, SubjectDomainName . "\\" . SubjectUserName)
"s4_eval" AS (
  SELECT
    *,
    COALESCE("ParentImage", "ParentProcessName") AS "parent_path",
    COALESCE("User", "SubjectDomainName" || '\' || "SubjectUserName") AS "user__2"
  FROM "s3_search"
),
-- table _time host EventCode user parent_path process_name CommandLine
"s5_table" AS (
  SELECT
    "_time",
    "host",
    "EventCode",
    "user__2" AS "user",
    "parent_path",
    "process_name",
    "CommandLine",
    ROW_NUMBER() OVER (ORDER BY "_time" DESC, "_serial" DESC) AS "_sqld_seq"
  FROM "s4_eval"
)
SELECT
  "_time",
  "host",
  "EventCode",
  "user",
  "parent_path",
  "process_name",
  "CommandLine"
FROM "s5_table"
ORDER BY
  "_sqld_seq" ASC
