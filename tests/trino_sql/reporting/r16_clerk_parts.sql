select o_orderkey, part, position
from orders
cross join unnest(split(o_clerk, '#')) with ordinality as t(part, position)
where o_orderkey < 200
