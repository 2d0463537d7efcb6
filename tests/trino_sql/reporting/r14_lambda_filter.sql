select l_returnflag, sum(cardinality(filter(ARRAY[l_quantity, l_discount * 100], x -> x > 5))) as big_values
from lineitem
group by l_returnflag
