select
    l_shipmode,
    count_if(o_orderpriority = '1-URGENT' or o_orderpriority = '2-HIGH') as high_line_count,
    count_if(o_orderpriority <> '1-URGENT' and o_orderpriority <> '2-HIGH') as low_line_count
from orders, lineitem
where
    o_orderkey = l_orderkey
    and l_shipmode in ('MAIL', 'SHIP')
    and l_commitdate < l_receiptdate
    and l_shipdate < l_commitdate
    and l_receiptdate >= date '1994-01-01'
    and l_receiptdate < date_add('year', 1, DATE '1994-01-01')
group by l_shipmode
order by l_shipmode;
