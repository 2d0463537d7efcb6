# Examples from Trino's documentation, functions/window.md: ntile's "with 6 rows and 4 buckets,
# the bucket values would be as follows: 1 1 2 2 3 4".
SELECT ntile(4) OVER (ORDER BY x) FROM (VALUES 1, 2, 3, 4, 5, 6) AS t(x) ORDER BY x;
-- [1, 1, 2, 2, 3, 4]
