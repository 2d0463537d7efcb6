# Examples from Trino's documentation, functions/comparison.md and conditional.md.
SELECT NULL BETWEEN 2 AND 4; -- null
SELECT 2 BETWEEN NULL AND 6; -- null
SELECT 2 BETWEEN 3 AND NULL; -- false
SELECT 8 BETWEEN NULL AND 6; -- false
SELECT 'Paul' BETWEEN 'John' AND 'Ringo'; -- true
select NULL IS NULL; -- true
SELECT 3.0 IS NULL; -- false
SELECT NULL IS DISTINCT FROM NULL; -- false
SELECT NULL IS NOT DISTINCT FROM NULL; -- true
SELECT 'hello' = ANY (VALUES 'hello', 'world'); -- true
SELECT 21 < ALL (VALUES 19, 20, 21); -- false
SELECT 42 >= SOME (SELECT 41 UNION ALL SELECT 42 UNION ALL SELECT 43); -- true
SELECT 'South_America' LIKE 'South\_America' ESCAPE '\'; -- true
SELECT 1 = 1; -- TRUE
SELECT 1 <> 1; -- FALSE
SELECT 1 IS DISTINCT FROM 1; -- FALSE
SELECT 1 IS NOT DISTINCT FROM 1; -- TRUE
SELECT 1 = 2; -- FALSE
SELECT 1 <> 2; -- TRUE
SELECT 1 IS DISTINCT FROM 2; -- TRUE
SELECT 1 IS NOT DISTINCT FROM 2; -- FALSE
SELECT 1 = NULL; -- NULL
SELECT 1 <> NULL; -- NULL
SELECT 1 IS DISTINCT FROM NULL; -- TRUE
SELECT 1 IS NOT DISTINCT FROM NULL; -- FALSE
SELECT NULL = NULL; -- NULL
SELECT NULL <> NULL; -- NULL
SELECT COALESCE(CAST(ROW(NULL, NULL) AS ROW(integer, integer)), ROW(1, 2)); -- (1, 2)
SELECT COALESCE(CAST(ROW(1, NULL) AS ROW(integer, integer)), ROW(1, 2)); -- (1, NULL)
SELECT * FROM (VALUES 'America', 'Asia', 'Africa', 'Europe', 'Australia', 'Antarctica') AS t (continent)
WHERE continent LIKE 'E%';
-- Europe
SELECT * FROM (VALUES 'America', 'Asia', 'Africa', 'Europe', 'Australia', 'Antarctica') AS t (continent)
WHERE continent NOT LIKE 'E%';
-- [America, Asia, Africa, Australia, Antarctica]
