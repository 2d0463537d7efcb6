select l_shipmode, avg(date_diff('day', o_orderdate, l_shipdate)) as avg_days, max(date_diff('day', o_orderdate, l_receiptdate)) as worst_days
from orders join lineitem on l_orderkey = o_orderkey
group by l_shipmode
