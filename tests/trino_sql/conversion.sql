# Examples from Trino's documentation, functions/conversion.md and decimal.md (literal types).
SELECT format('%s%%', 123);
-- '123%'
SELECT format('%.5f', pi());
-- '3.14159'
SELECT format('%03d', 8);
-- '008'
SELECT format('%,.2f', 1234567.89);
-- '1,234,567.89'
SELECT format('%-7s,%7s', 'hello', 'world');
-- 'hello  ,  world'
SELECT format('%2$s %3$s %1$s', 'a', 'b', 'c');
-- 'b c a'
SELECT format('%1$tA, %1$tB %1$te, %1$tY', date '2006-07-04');
-- 'Tuesday, July 4, 2006'
SELECT format_number(123456); -- '123K'
SELECT format_number(1000000); -- '1M'
SELECT parse_data_size('1B'); -- 1
SELECT parse_data_size('1kB'); -- 1024
SELECT parse_data_size('1MB'); -- 1048576
SELECT parse_data_size('2.3MB'); -- 2411724
SELECT typeof(123); -- integer
SELECT typeof('cat'); -- varchar(3)
SELECT typeof(cos(2) + 1.5); -- double
SELECT typeof(DECIMAL '0'); -- decimal(1,0)
SELECT typeof(DECIMAL '12345'); -- decimal(5,0)
SELECT typeof(DECIMAL '0000012345.1234500000'); -- decimal(20,10)
