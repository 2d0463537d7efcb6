select c_name, sum(o_totalprice) as spend
from customer join orders on o_custkey = c_custkey
group by c_name
order by spend desc, c_name
limit 10
