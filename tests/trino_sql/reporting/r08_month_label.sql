select date_format(o_orderdate, '%Y-%m') as label, sum(o_totalprice) as revenue
from orders
where o_orderdate < date '1993-01-01'
group by date_format(o_orderdate, '%Y-%m')
