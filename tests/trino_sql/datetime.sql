# Examples from Trino's documentation, functions/datetime.md (operators table, functions).
SELECT date '2012-08-08' + interval '2' day; -- 2012-08-10
SELECT timestamp '2012-08-08 01:00' + interval '29' hour; -- 2012-08-09 06:00:00.000
SELECT timestamp '2012-10-31 01:00' + interval '1' month; -- 2012-11-30 01:00:00.000
SELECT date '2012-08-08' - interval '2' day; -- 2012-08-06
SELECT timestamp '2012-08-08 01:00' - interval '29' hour; -- 2012-08-06 20:00:00.000
SELECT timestamp '2012-10-31 01:00' - interval '1' month; -- 2012-09-30 01:00:00.000
SELECT time '01:00' + interval '3' hour; -- 04:00:00.000
SELECT time '01:00' - interval '3' hour; -- 22:00:00.000
SELECT timestamp '2012-10-31 01:00 UTC';
-- 2012-10-31 01:00:00.000 UTC
SELECT timestamp '2012-10-31 01:00 UTC' AT TIME ZONE 'America/Los_Angeles';
-- 2012-10-30 18:00:00.000 America/Los_Angeles
SELECT from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00');
-- 2020-05-11 11:15:05.055 +01:00
SELECT from_iso8601_date('2020-05-11');
-- 2020-05-11
SELECT from_iso8601_date('2020-W10');
-- 2020-03-02
SELECT from_iso8601_date('2020-123');
-- 2020-05-02
SELECT from_unixtime_nanos(100);
-- 1970-01-01 00:00:00.000000100 UTC
SELECT date_trunc('day' , TIMESTAMP '2022-10-20 05:10:00');
-- 2022-10-20 00:00:00.000
SELECT date_trunc('month' , TIMESTAMP '2022-10-20 05:10:00');
-- 2022-10-01 00:00:00.000
SELECT date_trunc('year', TIMESTAMP '2022-10-20 05:10:00');
-- 2022-01-01 00:00:00.000
SELECT date_trunc('millisecond', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-22 03:04:05.321
SELECT date_trunc('second', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-22 03:04:05.000
SELECT date_trunc('minute', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-22 03:04:00.000
SELECT date_trunc('hour', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-22 03:00:00.000
SELECT date_trunc('day', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-22 00:00:00.000
SELECT date_trunc('week', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-20 00:00:00.000
SELECT date_trunc('month', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-08-01 00:00:00.000
SELECT date_trunc('quarter', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-07-01 00:00:00.000
SELECT date_trunc('year', TIMESTAMP '2001-08-22 03:04:05.321'); -- 2001-01-01 00:00:00.000
SELECT date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00');
-- 2020-03-01 00:01:26.000
SELECT date_add('hour', 9, TIMESTAMP '2020-03-01 00:00:00');
-- 2020-03-01 09:00:00.000
SELECT date_add('day', -1, TIMESTAMP '2020-03-01 00:00:00 UTC');
-- 2020-02-29 00:00:00.000 UTC
SELECT date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00');
-- 86400
SELECT date_diff('hour', TIMESTAMP '2020-03-01 00:00:00 UTC', TIMESTAMP '2020-03-02 00:00:00 UTC');
-- 24
SELECT date_diff('day', DATE '2020-03-01', DATE '2020-03-02');
-- 1
SELECT date_diff('second', TIMESTAMP '2020-06-01 12:30:45.000000000', TIMESTAMP '2020-06-02 12:30:45.123456789');
-- 86400
SELECT date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000000000', TIMESTAMP '2020-06-02 12:30:45.123456789');
-- 86400123
SELECT parse_duration('42.8ms');
-- 0 00:00:00.043
SELECT parse_duration('3.81 d');
-- 3 19:26:24.000
SELECT parse_duration('5m');
-- 0 00:05:00.000
SELECT human_readable_seconds(96);
-- 1 minute, 36 seconds
SELECT human_readable_seconds(3762);
-- 1 hour, 2 minutes, 42 seconds
SELECT human_readable_seconds(56363463);
-- 93 weeks, 1 day, 8 hours, 31 minutes, 3 seconds
SELECT date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H');
-- 10-20-2022 05
SELECT date_parse('2022/10/20/05', '%Y/%m/%d/%H');
-- 2022-10-20 05:00:00.000
SELECT extract(YEAR FROM TIMESTAMP '2022-10-20 05:10:00');
-- 2022
SELECT timezone(TIMESTAMP '2024-01-01 12:00:00 Asia/Tokyo'); -- Asia/Tokyo
SELECT timezone(TIMESTAMP '2024-01-01 12:00:00 +01:00'); -- +01:00
SELECT timezone(TIMESTAMP '2024-02-29 12:00:00 UTC'); -- UTC
SELECT interval '2' day + interval '3' hour; -- 2 03:00:00.000
SELECT interval '3' year + interval '5' month; -- 3-5
SELECT interval '2' day - interval '3' hour; -- 1 21:00:00.000
SELECT interval '3' year - interval '5' month; -- 2-7
SELECT from_iso8601_timestamp_nanos('2020-05-11T11:15:05.123456789+01:00');
-- 2020-05-11 11:15:05.123456789 +01:00
SELECT with_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles');
-- 2022-11-01 09:08:07.321 America/Los_Angeles
SELECT from_unixtime_nanos(DECIMAL '1234');
-- 1970-01-01 00:00:00.000001234 UTC
SELECT from_unixtime_nanos(DECIMAL '1234.499');
-- 1970-01-01 00:00:00.000001234 UTC
SELECT from_unixtime_nanos(DECIMAL '-1234');
-- 1969-12-31 23:59:59.999998766 UTC
SELECT timezone(TIME '12:00:00+09:00'); -- +09:00
