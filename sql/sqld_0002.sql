-- sqldetect: rule sqld-0002: Suspicious PowerShell Script Block
-- ATT&CK: T1059.001, T1562.001
WITH
-- EventCode=4104 Channel="Microsoft-Windows-PowerShell/Operational" ScriptBlockText IN ("*AmsiUtils*", "*amsiInitFailed*", "*Download*", "*IEX*", "*Invoke-Expression*", "*FromBase64String*", "*VirtualAlloc*", "*Mimikatz*")
"s1_search" AS (
  SELECT
    *
  FROM "events"
  WHERE
    "EventCode" = 4104
    AND LOWER("Channel") = 'microsoft-windows-powershell/operational'
    AND (
      "ScriptBlockText" ILIKE '%AmsiUtils%'
      OR "ScriptBlockText" ILIKE '%amsiInitFailed%'
      OR "ScriptBlockText" ILIKE '%Download%'
      OR "ScriptBlockText" ILIKE '%IEX%'
      OR "ScriptBlockText" ILIKE '%Invoke-Expression%'
      OR "ScriptBlockText" ILIKE '%FromBase64String%'
      OR "ScriptBlockText" ILIKE '%VirtualAlloc%'
      OR "ScriptBlockText" ILIKE '%Mimikatz%'
    )
),
-- eval indicator=mvappend( if(match(ScriptBlockText, "(?i)amsiutils|amsiinitfailed"), "amsi_bypass", null()), if(match(ScriptBlockText, "(?i)download(string|data|file)"), "web_download", null()), if(match(ScriptBlockText, "(?i)\b(iex|invoke-expression)\b"), "dynamic_execution", null()), if(match(ScriptBlockText, "(?i)frombase64string"), "base64_decode", null()), if(match(ScriptBlockText, "(?i)virtualalloc"), "memory_allocation", null()), if(match(ScriptBlockText, "(?i)mimikatz"), "credential_theft", null()))
"s2_eval" AS (
  SELECT
    *,
    CASE
      WHEN LEN(
        LIST_CONCAT(
          LIST_CONCAT(
            LIST_CONCAT(
              LIST_CONCAT(
                LIST_CONCAT(
                  CASE
                    WHEN CASE
                      WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)amsiutils|amsiinitfailed')
                      THEN 'amsi_bypass'
                      ELSE CAST(NULL AS TEXT)
                    END IS NULL
                    THEN CAST(NULL AS TEXT[])
                    ELSE [
                      CASE
                        WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)amsiutils|amsiinitfailed')
                        THEN 'amsi_bypass'
                        ELSE CAST(NULL AS TEXT)
                      END
                    ]
                  END,
                  CASE
                    WHEN CASE
                      WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)download(string|data|file)')
                      THEN 'web_download'
                      ELSE CAST(NULL AS TEXT)
                    END IS NULL
                    THEN CAST(NULL AS TEXT[])
                    ELSE [
                      CASE
                        WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)download(string|data|file)')
                        THEN 'web_download'
                        ELSE CAST(NULL AS TEXT)
                      END
                    ]
                  END
                ),
                CASE
                  WHEN CASE
                    WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)\b(iex|invoke-expression)\b')
                    THEN 'dynamic_execution'
                    ELSE CAST(NULL AS TEXT)
                  END IS NULL
                  THEN CAST(NULL AS TEXT[])
                  ELSE [
                    CASE
                      WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)\b(iex|invoke-expression)\b')
                      THEN 'dynamic_execution'
                      ELSE CAST(NULL AS TEXT)
                    END
                  ]
                END
              ),
              CASE
                WHEN CASE
                  WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)frombase64string')
                  THEN 'base64_decode'
                  ELSE CAST(NULL AS TEXT)
                END IS NULL
                THEN CAST(NULL AS TEXT[])
                ELSE [
                  CASE
                    WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)frombase64string')
                    THEN 'base64_decode'
                    ELSE CAST(NULL AS TEXT)
                  END
                ]
              END
            ),
            CASE
              WHEN CASE
                WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)virtualalloc')
                THEN 'memory_allocation'
                ELSE CAST(NULL AS TEXT)
              END IS NULL
              THEN CAST(NULL AS TEXT[])
              ELSE [
                CASE
                  WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)virtualalloc')
                  THEN 'memory_allocation'
                  ELSE CAST(NULL AS TEXT)
                END
              ]
            END
          ),
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)mimikatz')
              THEN 'credential_theft'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)mimikatz')
                THEN 'credential_theft'
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END
        )
      ) = 0
      THEN CAST(NULL AS TEXT[])
      ELSE LIST_CONCAT(
        LIST_CONCAT(
          LIST_CONCAT(
            LIST_CONCAT(
              LIST_CONCAT(
                CASE
                  WHEN CASE
                    WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)amsiutils|amsiinitfailed')
                    THEN 'amsi_bypass'
                    ELSE CAST(NULL AS TEXT)
                  END IS NULL
                  THEN CAST(NULL AS TEXT[])
                  ELSE [
                    CASE
                      WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)amsiutils|amsiinitfailed')
                      THEN 'amsi_bypass'
                      ELSE CAST(NULL AS TEXT)
                    END
                  ]
                END,
                CASE
                  WHEN CASE
                    WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)download(string|data|file)')
                    THEN 'web_download'
                    ELSE CAST(NULL AS TEXT)
                  END IS NULL
                  THEN CAST(NULL AS TEXT[])
                  ELSE [
                    CASE
                      WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)download(string|data|file)')
                      THEN 'web_download'
                      ELSE CAST(NULL AS TEXT)
                    END
                  ]
                END
              ),
              CASE
                WHEN CASE
                  WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)\b(iex|invoke-expression)\b')
                  THEN 'dynamic_execution'
                  ELSE CAST(NULL AS TEXT)
                END IS NULL
                THEN CAST(NULL AS TEXT[])
                ELSE [
                  CASE
                    WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)\b(iex|invoke-expression)\b')
                    THEN 'dynamic_execution'
                    ELSE CAST(NULL AS TEXT)
                  END
                ]
              END
            ),
            CASE
              WHEN CASE
                WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)frombase64string')
                THEN 'base64_decode'
                ELSE CAST(NULL AS TEXT)
              END IS NULL
              THEN CAST(NULL AS TEXT[])
              ELSE [
                CASE
                  WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)frombase64string')
                  THEN 'base64_decode'
                  ELSE CAST(NULL AS TEXT)
                END
              ]
            END
          ),
          CASE
            WHEN CASE
              WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)virtualalloc')
              THEN 'memory_allocation'
              ELSE CAST(NULL AS TEXT)
            END IS NULL
            THEN CAST(NULL AS TEXT[])
            ELSE [
              CASE
                WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)virtualalloc')
                THEN 'memory_allocation'
                ELSE CAST(NULL AS TEXT)
              END
            ]
          END
        ),
        CASE
          WHEN CASE
            WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)mimikatz')
            THEN 'credential_theft'
            ELSE CAST(NULL AS TEXT)
          END IS NULL
          THEN CAST(NULL AS TEXT[])
          ELSE [
            CASE
              WHEN REGEXP_MATCHES("ScriptBlockText", '(?i)mimikatz')
              THEN 'credential_theft'
              ELSE CAST(NULL AS TEXT)
            END
          ]
        END
      )
    END AS "indicator"
  FROM "s1_search"
),
-- where mvcount(indicator) >= 2
"s3_where" AS (
  SELECT
    *
  FROM "s2_eval"
  WHERE
    NULLIF(LEN("indicator"), 0) >= 2
),
-- stats min(_time) as firstTime values(indicator) as indicators dc(indicator) as indicator_count values(Path) as script_path by host UserID ScriptBlockId
"s4_stats" AS (
  SELECT
    "host",
    "UserID",
    "ScriptBlockId",
    EPOCH(MIN("_time")) AS "firstTime",
    LIST_SORT(
      LIST_DISTINCT(FLATTEN(ARRAY_AGG("indicator") FILTER(WHERE
        NOT "indicator" IS NULL)))
    ) AS "indicators",
    COALESCE(
      LEN(
        LIST_DISTINCT(FLATTEN(ARRAY_AGG("indicator") FILTER(WHERE
          NOT "indicator" IS NULL)))
      ),
      0
    ) AS "indicator_count",
    LIST_SORT(ARRAY_AGG(DISTINCT "Path") FILTER(WHERE
      NOT "Path" IS NULL)) AS "script_path"
  FROM "s3_where"
  WHERE
    NOT "host" IS NULL AND NOT "UserID" IS NULL AND NOT "ScriptBlockId" IS NULL
  GROUP BY
    "host",
    "UserID",
    "ScriptBlockId"
),
-- convert timeformat="%Y-%m-%dT%H:%M:%SZ" ctime(firstTime)
"s5_convert" AS (
  SELECT
    *
    REPLACE (STRFTIME(MAKE_TIMESTAMP(TRY_CAST(ROUND("firstTime" * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') AS "firstTime")
  FROM "s4_stats"
)
SELECT
  "host",
  "UserID",
  "ScriptBlockId",
  "firstTime",
  "indicators",
  "indicator_count",
  "script_path"
FROM "s5_convert"
ORDER BY
  TRY_CAST("host" AS DOUBLE) ASC,
  "host" ASC,
  TRY_CAST("UserID" AS DOUBLE) ASC,
  "UserID" ASC,
  TRY_CAST("ScriptBlockId" AS DOUBLE) ASC,
  "ScriptBlockId" ASC
