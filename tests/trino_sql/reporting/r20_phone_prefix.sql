select try_cast(substr(c_phone, 1, 2) as integer) as country, count(*) as customers,
       count_if(regexp_like(c_phone, '^1[0-9]-')) as teens
from customer
group by try_cast(substr(c_phone, 1, 2) as integer)
