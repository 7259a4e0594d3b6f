-- A product may be in two sectors only where the notes say why: every sector-map row that gives a product to a
-- sector must name, in its note, each other sector that product belongs to in the same revision.
with sector_products as (
    select sector_map.sector, sector_map.hs_revision, sector_map.hs_prefix, sector_map.note, products.hs6
    from {{ ref('sector_hs_map') }} as sector_map
    inner join {{ ref('hs_products') }} as products
        on products.hs_revision = sector_map.hs_revision
        and products.hs6 like sector_map.hs_prefix || '%'
)

select this.sector, this.hs_revision, this.hs_prefix, this.hs6, other.sector as other_sector
from sector_products as this
inner join sector_products as other
    on other.hs_revision = this.hs_revision
    and other.hs6 = this.hs6
    and other.sector <> this.sector
where lower(this.note) not like '%' || lower(other.sector) || '%'
