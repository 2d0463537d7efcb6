select o_orderpriority, count(*) as placed, count_if(o_orderstatus = 'F') as fulfilled, count_if(o_orderstatus = 'F' and o_totalprice > 100000) as big_fulfilled
from orders
group by o_orderpriority
