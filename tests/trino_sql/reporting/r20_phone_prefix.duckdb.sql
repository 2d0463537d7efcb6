select try_cast(substr(c_phone, 1, 2) as integer) as country, count(*) as customers,
       count(*) filter (where regexp_matches(c_phone, '^1[0-9]-')) as teens
from customer
group by try_cast(substr(c_phone, 1, 2) as integer)
