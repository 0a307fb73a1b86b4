-- 0007: a client is stored once. Until now `clients.data` held the client's whole JSON besides
-- its columns and its child tables; from now on it holds only the long tail, the fields that no
-- column or table carries (see `store/client_row.rs`). What a column cannot say exactly stays in
-- the tail: a flag that is null (the column says 0), a reference with neither UUID nor name.
UPDATE clients SET data = json_remove(data,
    '$.uuid', '$.name', '$.title', '$.gender', '$.first_name', '$.last_name', '$.other_name',
    '$.middle_name', '$.date_of_birth', '$.email', '$.address', '$.city', '$.region',
    '$.post_code', '$.country', '$.postal_address', '$.postal_city', '$.postal_region',
    '$.postal_post_code', '$.postal_country', '$.phone', '$.fax', '$.website',
    '$.referral_source', '$.export_code', '$.client_code', '$.web_url', '$.business_structure',
    '$.tax_number', '$.company_number', '$.business_number',
    '$.contacts', '$.notes', '$.groups', '$.relationships');
UPDATE clients SET data = json_remove(data, '$.is_prospect')
    WHERE json_type(data, '$.is_prospect') IN ('true', 'false');
UPDATE clients SET data = json_remove(data, '$.is_archived')
    WHERE json_type(data, '$.is_archived') IN ('true', 'false');
UPDATE clients SET data = json_remove(data, '$.is_deleted')
    WHERE json_type(data, '$.is_deleted') IN ('true', 'false');
UPDATE clients SET data = json_remove(data, '$.account_manager')
    WHERE json_type(data, '$.account_manager') = 'null'
       OR json_extract(data, '$.account_manager.uuid') IS NOT NULL
       OR json_extract(data, '$.account_manager.name') IS NOT NULL;
UPDATE clients SET data = json_remove(data, '$.job_manager')
    WHERE json_type(data, '$.job_manager') = 'null'
       OR json_extract(data, '$.job_manager.uuid') IS NOT NULL
       OR json_extract(data, '$.job_manager.name') IS NOT NULL;
UPDATE clients SET data = json_remove(data, '$.billing_client')
    WHERE json_type(data, '$.billing_client') = 'null'
       OR json_extract(data, '$.billing_client.uuid') IS NOT NULL
       OR json_extract(data, '$.billing_client.name') IS NOT NULL;
-- The billing type's name was a column no read used; the whole type is in the tail.
ALTER TABLE clients DROP COLUMN client_type;
