select o_orderpriority, sum(if(o_orderstatus = 'O', o_totalprice, 0)) / sum(o_totalprice) as open_share
from orders
group by o_orderpriority
