select isodow(o_orderdate) as weekday, count(*) as orders
from orders
group by isodow(o_orderdate)
