with recursive days(d) as (
    values date '1995-03-01'
    union all
    select d + interval '1' day from days where d < date '1995-03-07'
)
select d, count(o_orderkey) as orders
from days
left join orders on o_orderdate = d
group by d
