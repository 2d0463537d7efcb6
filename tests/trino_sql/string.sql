# Examples from Trino's documentation, functions/string.md.
select luhn_check('79927398713');
-- true
select luhn_check('79927398714');
-- false
SELECT overlay('Txxxxas' PLACING 'hom' FROM 2 FOR 4);
-- Thomas
SELECT overlay('abc' PLACING 'XYZ' FROM 3); -- abXYZ
SELECT title_case('hello world'); -- Hello World
SELECT translate('abcd', '', ''); -- 'abcd'
SELECT translate('abcd', 'a', 'z'); -- 'zbcd'
SELECT translate('abcda', 'a', 'z'); -- 'zbcdz'
SELECT translate('Palhoça', 'ç','c'); -- 'Palhoca'
SELECT translate('abcd', 'a', ''); -- 'bcd'
SELECT translate('abcd', 'a', 'zy'); -- 'zbcd'
SELECT translate('abcd', 'ac', 'z'); -- 'zbd'
SELECT translate('abcd', 'aac', 'zq'); -- 'zbd'
SELECT trim('!' FROM '!foo!'); -- 'foo'
SELECT trim(LEADING FROM '  abcd');  -- 'abcd'
SELECT trim(BOTH '$' FROM '$var$'); -- 'var'
SELECT trim(TRAILING 'ER' FROM upper('worker')); -- 'WORK'
