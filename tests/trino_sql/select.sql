# Examples from Trino's documentation, sql/select.md and sql/values.md: each query with the
# rows the page shows for it. The `shipping` table the grouping examples read is the one the
# page lists, given inline; `nation` is TPC-H's (its columns carry the `n_` prefix here).
SELECT (CAST(ROW(1, true) AS ROW(field1 bigint, field2 boolean))).* AS (alias1, alias2);
-- 1 | true
SELECT (CAST(ROW(1, true) AS ROW(field1 bigint, field2 boolean))).*;
-- 1 | true
SELECT (ROW(1, true)).*;
-- 1 | true
WITH shipping(origin_state, origin_zip, destination_state, destination_zip, package_weight) AS (
    VALUES
        ('California', 94131, 'New Jersey', 8648, 13),
        ('California', 94131, 'New Jersey', 8540, 42),
        ('New Jersey', 7081, 'Connecticut', 6708, 225),
        ('California', 90210, 'Connecticut', 6927, 1337),
        ('California', 94131, 'Colorado', 80302, 5),
        ('New York', 10002, 'New Jersey', 8540, 3))
SELECT origin_state, origin_zip, destination_state, sum(package_weight)
FROM shipping
GROUP BY GROUPING SETS (
    (origin_state),
    (origin_state, origin_zip),
    (destination_state));
-- [(New Jersey, NULL, NULL, 225), (California, NULL, NULL, 1397), (New York, NULL, NULL, 3), (California, 90210, NULL, 1337), (California, 94131, NULL, 60), (New Jersey, 7081, NULL, 225), (New York, 10002, NULL, 3), (NULL, NULL, Colorado, 5), (NULL, NULL, New Jersey, 58), (NULL, NULL, Connecticut, 1562)]
WITH shipping(origin_state, origin_zip, destination_state, destination_zip, package_weight) AS (
    VALUES
        ('California', 94131, 'New Jersey', 8648, 13),
        ('California', 94131, 'New Jersey', 8540, 42),
        ('New Jersey', 7081, 'Connecticut', 6708, 225),
        ('California', 90210, 'Connecticut', 6927, 1337),
        ('California', 94131, 'Colorado', 80302, 5),
        ('New York', 10002, 'New Jersey', 8540, 3))
SELECT origin_state, destination_state, sum(package_weight)
FROM shipping
GROUP BY CUBE (origin_state, destination_state);
-- [(California, New Jersey, 55), (California, Colorado, 5), (New York, New Jersey, 3), (New Jersey, Connecticut, 225), (California, Connecticut, 1337), (California, NULL, 1397), (New York, NULL, 3), (New Jersey, NULL, 225), (NULL, New Jersey, 58), (NULL, Connecticut, 1562), (NULL, Colorado, 5), (NULL, NULL, 1625)]
WITH shipping(origin_state, origin_zip, destination_state, destination_zip, package_weight) AS (
    VALUES
        ('California', 94131, 'New Jersey', 8648, 13),
        ('California', 94131, 'New Jersey', 8540, 42),
        ('New Jersey', 7081, 'Connecticut', 6708, 225),
        ('California', 90210, 'Connecticut', 6927, 1337),
        ('California', 94131, 'Colorado', 80302, 5),
        ('New York', 10002, 'New Jersey', 8540, 3))
SELECT origin_state, origin_zip, sum(package_weight)
FROM shipping
GROUP BY ROLLUP (origin_state, origin_zip);
-- [(California, 94131, 60), (California, 90210, 1337), (New Jersey, 7081, 225), (New York, 10002, 3), (California, NULL, 1397), (New York, NULL, 3), (New Jersey, NULL, 225), (NULL, NULL, 1625)]
WITH shipping(origin_state, origin_zip, destination_state, destination_zip, package_weight) AS (
    VALUES
        ('California', 94131, 'New Jersey', 8648, 13),
        ('California', 94131, 'New Jersey', 8540, 42),
        ('New Jersey', 7081, 'Connecticut', 6708, 225),
        ('California', 90210, 'Connecticut', 6927, 1337),
        ('California', 94131, 'Colorado', 80302, 5),
        ('New York', 10002, 'New Jersey', 8540, 3))
SELECT origin_state, destination_state, origin_zip, sum(package_weight)
FROM shipping
GROUP BY
    GROUPING SETS ((origin_state, destination_state)),
    ROLLUP (origin_zip);
-- [(New York, New Jersey, 10002, 3), (California, New Jersey, 94131, 55), (New Jersey, Connecticut, 7081, 225), (California, Connecticut, 90210, 1337), (California, Colorado, 94131, 5), (New York, New Jersey, NULL, 3), (New Jersey, Connecticut, NULL, 225), (California, Colorado, NULL, 5), (California, Connecticut, NULL, 1337), (California, New Jersey, NULL, 55)]
WITH shipping(origin_state, origin_zip, destination_state, destination_zip, package_weight) AS (
    VALUES
        ('California', 94131, 'New Jersey', 8648, 13),
        ('California', 94131, 'New Jersey', 8540, 42),
        ('New Jersey', 7081, 'Connecticut', 6708, 225),
        ('California', 90210, 'Connecticut', 6927, 1337),
        ('California', 94131, 'Colorado', 80302, 5),
        ('New York', 10002, 'New Jersey', 8540, 3))
SELECT origin_state, origin_zip, destination_state, sum(package_weight),
       grouping(origin_state, origin_zip, destination_state)
FROM shipping
GROUP BY GROUPING SETS (
    (origin_state),
    (origin_state, origin_zip),
    (destination_state)
);
-- [(California, NULL, NULL, 1397, 3), (New Jersey, NULL, NULL, 225, 3), (New York, NULL, NULL, 3, 3), (California, 94131, NULL, 60, 1), (New Jersey, 7081, NULL, 225, 1), (California, 90210, NULL, 1337, 1), (New York, 10002, NULL, 3, 1), (NULL, NULL, New Jersey, 58, 6), (NULL, NULL, Connecticut, 1562, 6), (NULL, NULL, Colorado, 5, 6)]
WITH RECURSIVE t(n) AS (
    VALUES (1)
    UNION ALL
    SELECT n + 1 FROM t WHERE n < 4
)
SELECT sum(n) FROM t;
-- 10
SELECT 13
UNION
SELECT 42;
-- [13, 42]
SELECT 13
UNION
SELECT * FROM (VALUES 42, 13);
-- [13, 42]
SELECT 13
UNION ALL
SELECT * FROM (VALUES 42, 13);
-- [13, 42, 13]
SELECT * FROM (VALUES (1, 'alice')) AS t(id, name)
UNION ALL CORRESPONDING
SELECT * FROM (VALUES ('bob', 2)) AS t(name, id);
-- [(1, alice), (2, bob)]
SELECT * FROM (VALUES (DATE '2025-04-23', 'alice')) AS t(order_date, name)
UNION ALL CORRESPONDING
SELECT * FROM (VALUES ('bob', 123.45)) AS t(name, price);
-- [alice, bob]
SELECT * FROM (VALUES 13, 42)
INTERSECT
SELECT 13;
-- 13
SELECT * FROM (VALUES (1, 'alice')) AS t(id, name)
INTERSECT CORRESPONDING
SELECT * FROM (VALUES ('alice', 1)) AS t(name, id);
-- 1 | alice
SELECT * FROM (VALUES 13, 42)
EXCEPT
SELECT 13;
-- 42
SELECT * FROM (VALUES (1, 'alice'), (2, 'bob')) AS t(id, name)
EXCEPT CORRESPONDING
SELECT * FROM (VALUES ('alice', 1)) AS t(name, id);
-- 2 | bob
SELECT n_name AS name FROM nation ORDER BY name OFFSET 22;
-- [UNITED KINGDOM, UNITED STATES, VIETNAM]
SELECT * FROM (VALUES 5, 2, 4, 1, 3) t(x) ORDER BY x OFFSET 2 LIMIT 2;
-- [3, 4]
SELECT n_name AS name, n_regionkey AS regionkey
FROM nation
ORDER BY regionkey FETCH FIRST ROW WITH TIES;
-- [(ETHIOPIA, 0), (MOROCCO, 0), (KENYA, 0), (ALGERIA, 0), (MOZAMBIQUE, 0)]
SELECT * FROM UNNEST(ARRAY[1,2]) AS t(number);
-- [1, 2]
SELECT * FROM UNNEST(
        map_from_entries(
            ARRAY[
                ('SQL',1974),
                ('Java', 1995)
            ]
        )
) AS t(language, first_appeared_year);
-- [(SQL, 1974), (Java, 1995)]
SELECT *
FROM UNNEST(
        ARRAY[
            ROW('Java',  1995),
            ROW('SQL' , 1974)],
        ARRAY[
            ROW(false),
            ROW(true)]
) as t(language,first_appeared_year,declarative);
-- [(Java, 1995, false), (SQL, 1974, true)]
SELECT a, b, rownumber
FROM UNNEST (
    ARRAY[2, 5],
    ARRAY[7, 8, 9]
     ) WITH ORDINALITY AS t(a, b, rownumber);
-- [(2, 7, 1), (5, 8, 2), (NULL, 9, 3)]
SELECT * FROM UNNEST (ARRAY[]) AS t(value);
-- []
SELECT * FROM UNNEST (CAST(null AS ARRAY(integer))) AS t(number);
-- []
SELECT student, score
FROM (
   VALUES
      ('John', ARRAY[7, 10, 9]),
      ('Mary', ARRAY[4, 8, 9])
) AS tests (student, scores)
CROSS JOIN UNNEST(scores) AS t(score);
-- [(John, 7), (John, 10), (John, 9), (Mary, 4), (Mary, 8), (Mary, 9)]
SELECT numbers, animals, n, a
FROM (
  VALUES
    (ARRAY[2, 5], ARRAY['dog', 'cat', 'bird']),
    (ARRAY[7, 8, 9], ARRAY['cow', 'pig'])
) AS x (numbers, animals)
CROSS JOIN UNNEST(numbers, animals) AS t (n, a);
-- [([2, 5], [dog, cat, bird], 2, dog), ([2, 5], [dog, cat, bird], 5, cat), ([2, 5], [dog, cat, bird], NULL, bird), ([7, 8, 9], [cow, pig], 7, cow), ([7, 8, 9], [cow, pig], 8, pig), ([7, 8, 9], [cow, pig], 9, NULL)]
SELECT runner, checkpoint
FROM (
   VALUES
      ('Joe', ARRAY[10, 20, 30, 42]),
      ('Roger', ARRAY[10]),
      ('Dave', ARRAY[]),
      ('Levi', NULL)
) AS marathon (runner, checkpoints)
LEFT JOIN UNNEST(checkpoints) AS t(checkpoint) ON TRUE;
-- [(Joe, 10), (Joe, 20), (Joe, 30), (Joe, 42), (Roger, 10), (Dave, NULL), (Levi, NULL)]
VALUES 1, 2, 3;
-- [1, 2, 3]
VALUES
    (1, 'a'),
    (2, 'b'),
    (3, 'c');
-- [(1, a), (2, b), (3, c)]
SELECT * FROM (
    VALUES
        (1, 'a'),
        (2, 'b'),
        (3, 'c')
) AS t (id, name);
-- [(1, a), (2, b), (3, c)]
# "The `nation` table contains 25 rows and the `region` table contains 5 rows, so a cross join
# between the two tables produces 125 rows", and the first rows of its sorted listing.
SELECT count(*) FROM nation;
-- 25
SELECT count(*) FROM region;
-- 5
SELECT count(*) FROM nation CROSS JOIN region;
-- 125
SELECT n.n_name AS nation, r.r_name AS region
FROM nation AS n
CROSS JOIN region AS r
ORDER BY 1, 2
LIMIT 7;
-- [(ALGERIA, AFRICA), (ALGERIA, AMERICA), (ALGERIA, ASIA), (ALGERIA, EUROPE), (ALGERIA, MIDDLE EAST), (ARGENTINA, AFRICA), (ARGENTINA, AMERICA)]
