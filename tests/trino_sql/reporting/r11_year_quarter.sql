select year(l_shipdate) as y, quarter(l_shipdate) as q, sum(l_quantity) as quantity
from lineitem
group by year(l_shipdate), quarter(l_shipdate)
