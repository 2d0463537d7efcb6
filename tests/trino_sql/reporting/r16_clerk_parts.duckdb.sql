select o_orderkey, string_split(o_clerk, '#')[position] as part, position
from orders, generate_series(1, len(string_split(o_clerk, '#'))) as g(position)
where o_orderkey < 200
