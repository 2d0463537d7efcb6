select date_trunc('week', l_shipdate) as week, count(*) as shipments
from lineitem
where l_shipdate between date '1995-01-01' and date '1995-03-31'
group by date_trunc('week', l_shipdate)
