# Examples from Trino's documentation, functions/conditional.md (TRY). The page's `shipping`
# table is written as VALUES. Its BIGINT 08544 is the value 8544. Its COALESCE example is
# taken for the first three rows only: the page shows 19 for the fourth (490 / 225), which
# integer division makes 2.
SELECT TRY(CAST(origin_zip AS BIGINT))
FROM (VALUES
    ('California', '94131', 25, 100),
    ('California', 'P332a', 5, 72),
    ('California', '94025', 0, 155),
    ('New Jersey', '08544', 225, 490)
) shipping(origin_state, origin_zip, packages, total_cost);
-- [94131, NULL, 94025, 8544]
SELECT COALESCE(TRY(total_cost / packages), 0) AS per_package
FROM (VALUES
    ('California', '94131', 25, 100),
    ('California', 'P332a', 5, 72),
    ('California', '94025', 0, 155)
) shipping(origin_state, origin_zip, packages, total_cost);
-- [4, 14, 0]
