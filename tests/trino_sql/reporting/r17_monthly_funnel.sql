select date_trunc('month', o_orderdate) as month,
       count(*) as placed,
       count_if(o_orderstatus <> 'P') as settled,
       count_if(o_orderstatus = 'F') as fulfilled,
       count_if(o_orderstatus = 'F' and o_orderpriority = '1-URGENT') as urgent_fulfilled
from orders
where o_orderdate >= date '1995-01-01' and o_orderdate < date '1996-01-01'
group by date_trunc('month', o_orderdate)
