-- id: plan_metadata_mismatch
-- severity: warning
-- scope: plan
-- reads: plans
-- title_vi: Bảng thông tin của trang đăng khác đầu văn bản
-- title_en: The page's metadata table disagrees with the document's header
-- message_vi: {field_vi} theo bảng thông tin của trang đăng là “{metadata_value}” nhưng đầu văn bản ghi
--   “{header_value}”; dữ liệu theo đầu văn bản.
-- message_en: The page's metadata table gives the {field_en} as “{metadata_value}” but the document's header
--   says “{header_value}”; the data follows the header.
--
-- The header is the document's own statement, so the plan keeps it; the page's
-- table is kept beside it (metadata_* fields) and each disagreement is a finding.
-- Numbers are compared without spaces and case ('59/QĐ-BTNMT' = '59/qđ-btnmt').
SELECT plan_id, json_object('field', 'number')::VARCHAR AS row_key, metadata_line AS source_line,
       'Số hiệu' AS field_vi, 'number' AS field_en, metadata_number AS metadata_value, number AS header_value
FROM plans
WHERE metadata_number IS NOT NULL
  AND lower(regexp_replace(metadata_number, '\s+', '', 'g')) <> lower(regexp_replace(number, '\s+', '', 'g'))
UNION ALL
SELECT plan_id, json_object('field', 'issued_date')::VARCHAR, metadata_line,
       'Ngày ban hành', 'issue date', strftime(metadata_issued_date, '%d/%m/%Y'), strftime(issued_date, '%d/%m/%Y')
FROM plans
WHERE metadata_issued_date IS NOT NULL AND metadata_issued_date <> issued_date
UNION ALL
SELECT plan_id, json_object('field', 'doc_type')::VARCHAR, metadata_line,
       'Loại văn bản', 'document type', metadata_doc_type, doc_type
FROM plans
WHERE metadata_doc_type IS NOT NULL AND lower(metadata_doc_type) <> lower(doc_type);
