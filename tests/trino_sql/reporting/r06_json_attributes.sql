select json_extract_scalar(doc, '$.region') as region, count(*) as nations
from (select '{"nation": "' || n_name || '", "region": ' || cast(n_regionkey as varchar) || '}' as doc from nation) t
group by json_extract_scalar(doc, '$.region')
