select day_of_week(o_orderdate) as weekday, count(*) as orders
from orders
group by day_of_week(o_orderdate)
