select regexp_extract(c_phone, '^(\d+)-', 1) as country, count(*) as customers, sum(c_acctbal) as balance
from customer
group by regexp_extract(c_phone, '^(\d+)-', 1)
