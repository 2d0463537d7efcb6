select
    100.00 * sum(if(starts_with(p_type, 'PROMO'), l_extendedprice * (1 - l_discount), 0))
        / sum(l_extendedprice * (1 - l_discount)) as promo_revenue
from lineitem, part
where
    l_partkey = p_partkey
    and l_shipdate >= date '1995-09-01'
    and l_shipdate < date_add('month', 1, DATE '1995-09-01');
