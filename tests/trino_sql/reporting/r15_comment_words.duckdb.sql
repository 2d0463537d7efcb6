select word, count(*) as uses
from orders, unnest(string_split(o_comment, ' ')) as t(word)
where o_orderdate < date '1992-03-01'
group by word
having count(*) > 3
