# Examples from Trino's documentation, language/types.md (literals and the values they stand
# for, as the page states them) and functions/row.md.
SELECT 0x0A; -- 10
SELECT 0x11; -- 17
SELECT 0o40; -- 32
SELECT 0o11; -- 9
SELECT 0b1001; -- 9
SELECT 0b101010; -- 42
SELECT 123_456.789_123; -- 123456.789123
SELECT 123_456.789e4; -- 123456.789e4
SELECT 000123.456; -- 123.456
SELECT typeof(1.03e1); -- double
SELECT DECIMAL '10.3'; -- 10.3
SELECT U&'Hello winter \2603 !'; -- Hello winter ☃ !
SELECT U&'Hello winter #2603 !' UESCAPE '#'; -- Hello winter ☃ !
SELECT 'I am big, it''s the pictures that got small!'; -- I am big, it's the pictures that got small!
SELECT from_utf8(x'65683F'); -- eh?
SELECT TIME '01:02:03.456 -08:00';
-- 01:02:03.456-08:00
SELECT TIMESTAMP '2020-06-10 15:55:23';
-- 2020-06-10 15:55:23
SELECT TIMESTAMP '2020-06-10 15:55:23.383345';
-- 2020-06-10 15:55:23.383345
SELECT typeof(TIMESTAMP '2020-06-10 15:55:23.383345');
-- timestamp(6)
SELECT cast(TIMESTAMP '2020-06-10 15:55:23.383345' as TIMESTAMP(1));
-- 2020-06-10 15:55:23.4
SELECT cast(TIMESTAMP '2020-06-10 15:55:23.383345' as TIMESTAMP(12));
-- 2020-06-10 15:55:23.383345000000
SELECT TIMESTAMP '2001-08-22 03:04:05.321 UTC';
-- 2001-08-22 03:04:05.321 UTC
SELECT TIMESTAMP '2001-08-22 03:04:05.321 -08:30';
-- 2001-08-22 03:04:05.321 -08:30
SELECT TIMESTAMP '2001-08-22 03:04:05.321 GMT-08:30';
-- 2001-08-22 03:04:05.321 -08:30
SELECT TIMESTAMP '2001-08-22 03:04:05.321 America/New_York';
-- 2001-08-22 03:04:05.321 America/New_York
SELECT CAST(ROW(1, 2.0) AS ROW(x BIGINT, y DOUBLE)).x; -- 1
SELECT ROW(1, 2.0)[1]; -- 1
SELECT IPADDRESS '10.0.0.1'; -- 10.0.0.1
SELECT IPADDRESS '2001:db8::1'; -- 2001:db8::1
SELECT UUID '12151fd2-7586-11e9-8f9e-2a86e4085a59'; -- 12151fd2-7586-11e9-8f9e-2a86e4085a59
SELECT CAST(NULL AS ROW(greeting VARCHAR, planet ROW(color varchar, size bigint))).fields();
-- ['greeting', 'planet']
