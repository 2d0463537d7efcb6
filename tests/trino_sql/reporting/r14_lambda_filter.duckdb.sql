select l_returnflag, sum(len(list_filter([l_quantity, l_discount * 100], x -> x > 5))) as big_values
from lineitem
group by l_returnflag
