select word, count(*) as uses
from orders
cross join unnest(split(o_comment, ' ')) as t(word)
where o_orderdate < date '1992-03-01'
group by word
having count(*) > 3
