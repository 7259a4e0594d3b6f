select
    code as hs6,
    description,
    hs_revision
from {{ source('baci', 'baci_products') }}
where hs_revision = '{{ var("hs_revision") }}'
