select c_name, c_acctbal
from customer
where c_mktsegment = 'MACHINERY'
order by c_acctbal desc, c_custkey
fetch first 10 rows only
