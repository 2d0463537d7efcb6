select date_trunc('month', o_orderdate) as month, o_orderpriority, sum(o_totalprice) as revenue, count(*) as orders
from orders
where o_orderdate >= date '1996-01-01'
group by date_trunc('month', o_orderdate), o_orderpriority
