select o_custkey, max_by(o_orderstatus, o_orderkey) as latest_status, min_by(o_totalprice, o_orderkey) as first_price
from orders
where o_custkey < 200
group by o_custkey
