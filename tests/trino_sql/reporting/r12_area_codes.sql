select split_part(c_phone, '-', 2) as area, count(*) as customers
from customer
where c_mktsegment = 'BUILDING'
group by split_part(c_phone, '-', 2)
